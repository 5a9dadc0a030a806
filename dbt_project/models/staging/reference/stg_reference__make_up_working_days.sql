with

source as (

    select * from {{ ref('official_make_up_working_days') }}

),

final as (

    select
        work_date,
        replaces_day_off,
        normalize(reason, nfc) as reason,
        source

    from source

)

select * from final
