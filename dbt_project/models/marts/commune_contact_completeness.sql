{{
    config(
        indexes=[
            {'columns': ['period_type', 'period_start', 'commune_key'], 'unique': true},
        ]
    )
}}

{#-
    Citizen contact fields per commune (unit version) × period, over the
    dossiers received in the period: address present, phone valid, email
    valid, all three (contact complete) and the completeness rate.
-#}
with

commune_periods as (

    select * from {{ ref('int_reporting__commune_periods') }}

),

final as (

    select
        commune_key,
        commune_code,
        commune_name,
        district_code,
        period_type,
        period_start,
        period_end,
        cut_off_date,
        received_total as dossiers,
        address_present,
        phone_valid,
        email_valid,
        contact_complete,
        {{ percent('contact_complete', 'received_total') }} as completeness_rate,
        province_code,
        province_name
    from commune_periods

)

select * from final
