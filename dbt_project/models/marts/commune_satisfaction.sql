{{
    config(
        indexes=[
            {'columns': ['survey_year', 'agency_type', 'commune_key'], 'unique': true},
        ]
    )
}}

{#-
    Satisfaction index per commune (unit version) × survey year × service
    (UBND, Trạm y tế, Trường học), with its element indices, rating band,
    target, and whether it rests on enough responses to be reliable.
-#}
with

scored as (

    select * from {{ ref('int_reporting__satisfaction_scored') }}
    where grain = 'commune'

),

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

final as (

    select
        scored.commune_key,
        units.commune_code,
        units.commune_name,
        units.district_code,
        scored.survey_year,
        scored.agency_type,
        scored.responses,
        scored.idx_access,
        scored.idx_procedure,
        scored.idx_staff,
        scored.idx_result,
        scored.idx_feedback,
        scored.satisfaction_index,
        scored.rating,
        scored.target,
        scored.meets_target,
        scored.reliable,
        units.province_code,
        units.province_name
    from scored
    inner join units
        on scored.commune_key = units.commune_key

)

select * from final
