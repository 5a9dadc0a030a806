with

source as (

    select * from {{ ref('vn_public_holidays') }}

),

final as (

    select
        holiday_date,
        normalize(holiday_name, nfc) as holiday_name,
        holiday_name_en,
        holiday_kind

    from source

)

select * from final
