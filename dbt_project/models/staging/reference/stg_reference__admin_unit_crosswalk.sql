with

source as (

    select * from {{ ref('admin_unit_crosswalk') }}

),

final as (

    select
        {{ commune_key('from_code', 'from_valid_from') }} as from_commune_key,
        {{ commune_key('to_code', 'to_valid_from') }} as to_commune_key,
        change_date,
        change_type,
        is_default_successor

    from source

)

select * from final
