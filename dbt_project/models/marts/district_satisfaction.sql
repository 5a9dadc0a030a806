{{
    config(
        indexes=[
            {'columns': ['survey_year', 'agency_type', 'district_code'], 'unique': true},
        ]
    )
}}

{#-
    Satisfaction index per district (town) × survey year × service over the
    pooled responses of its communes (the figure the town reports is the
    row with agency_type UBND), with how many communes fall below the
    target and how many got each rating band.
-#}
with

scored as (

    select * from {{ ref('int_reporting__satisfaction_scored') }}

),

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

district_names as (

    select distinct on (district_code)
        district_code,
        district_name
    from units
    where district_code is not null
    order by district_code asc, valid_from desc

),

commune_rows as (

    select * from scored
    where grain = 'commune'

),

commune_summary as (

    select
        district_code,
        survey_year,
        agency_type,
        count(*) filter (where meets_target is false) as communes_below_target,
        count(*) filter (where satisfaction_index is not null) as communes_rated
    from commune_rows
    group by district_code, survey_year, agency_type

),

rating_counts as (

    select
        district_code,
        survey_year,
        agency_type,
        rating,
        count(*) as communes
    from commune_rows
    where rating is not null
    group by district_code, survey_year, agency_type, rating

),

ratings as (

    select
        district_code,
        survey_year,
        agency_type,
        jsonb_object_agg(rating, communes) as communes_by_rating
    from rating_counts
    group by district_code, survey_year, agency_type

),

final as (

    select
        scored.district_code,
        district_names.district_name,
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
        commune_summary.communes_below_target,
        commune_summary.communes_rated,
        coalesce(ratings.communes_by_rating, '{}'::jsonb) as communes_by_rating
    from scored
    inner join district_names
        on scored.district_code = district_names.district_code
    inner join commune_summary
        on
            scored.district_code = commune_summary.district_code
            and scored.survey_year = commune_summary.survey_year
            and scored.agency_type = commune_summary.agency_type
    left join ratings
        on
            scored.district_code = ratings.district_code
            and scored.survey_year = ratings.survey_year
            and scored.agency_type = ratings.agency_type
    where scored.grain = 'district'

)

select * from final
