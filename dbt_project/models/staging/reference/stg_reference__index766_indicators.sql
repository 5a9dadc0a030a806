with

source as (

    select * from {{ ref('index766_indicators') }}

),

final as (

    select
        indicator_code,
        normalize(indicator_group, nfc) as indicator_group,
        group_key,
        sort_order,
        max_points,
        is_computed,
        points_scale,
        points_target,
        coalesce(is_capped, false) as is_capped,
        reason_not_computed

    from source

)

select * from final
