{{ config(pre_hook="{{ unit_sized_settings() }}") }}

{#-
    Satisfaction index per commune (unit version), per district (survey
    years to 2024: districts were abolished on 1/7/2025) and per province,
    × survey year × service (docs/rules.md "Satisfaction index"). Element index = 100 ×
    satisfied (4 or 5) / valid answers; the index is the mean of the element
    indices that have a valid answer, rounded to 2 decimals only at the end.
    District and province figures pool the responses of their communes
    (sums of counts), never average the commune indices. Rating band and
    target come from the seeds; both are applied to the rounded index, the
    figure that is reported. Every unit valid in a survey year, in a district surveyed that
    year (for the 2025 units, which have no district: in a province surveyed
    that year), gets a row for each service (responses 0 where nobody
    answered).
-#}
{#- pooled over communes; feedback_satisfied, the last, is written out -#}
{%- set pooled_counts = [
    'responses',
    'access_valid', 'access_satisfied', 'procedure_valid', 'procedure_satisfied',
    'staff_valid', 'staff_satisfied', 'result_valid', 'result_satisfied',
    'feedback_valid',
] %}
with

responses as (

    select * from {{ ref('int_survey__responses') }}
    where agency_type is not null

),

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

bands as (

    select * from {{ ref('stg_reference__satisfaction_rating_bands') }}

),

targets as (

    select * from {{ ref('stg_reference__satisfaction_targets') }}

),

agency_types as (

    -- the services of the seed vocabularies (macro vocabulary)
    select agency_type
    from unnest(array{{ vocabulary_values('agency', brackets='[]') }}) as agency_types (agency_type)

),

surveyed_districts as (

    -- districts (null for 2025 units: then the province's units) with at
    -- least one response in the year
    select distinct
        units.province_code,
        units.district_code,
        responses.survey_year
    from responses
    inner join units
        on responses.commune_key = units.commune_key

),

commune_counts as (

    select
        commune_key,
        survey_year,
        agency_type,
        count(*) as responses,
        count(ans_access) as access_valid,
        count(*) filter (where ans_access >= 4) as access_satisfied,
        count(ans_procedure) as procedure_valid,
        count(*) filter (where ans_procedure >= 4) as procedure_satisfied,
        count(ans_staff) as staff_valid,
        count(*) filter (where ans_staff >= 4) as staff_satisfied,
        count(ans_result) as result_valid,
        count(*) filter (where ans_result >= 4) as result_satisfied,
        count(ans_feedback) as feedback_valid,
        count(*) filter (where ans_feedback >= 4) as feedback_satisfied
    from responses
    group by commune_key, survey_year, agency_type

),

spine as (

    select
        units.commune_key,
        surveyed_districts.survey_year,
        agency_types.agency_type
    from units
    inner join surveyed_districts
        on
            units.province_code = surveyed_districts.province_code
            and (units.district_code is not distinct from surveyed_districts.district_code)
            and units.valid_from <= make_date(surveyed_districts.survey_year, 12, 31)
            and coalesce(units.valid_to, 'infinity'::date)
            >= make_date(surveyed_districts.survey_year, 1, 1)
    cross join agency_types

    union

    select
        commune_key,
        survey_year,
        agency_type
    from commune_counts

),

commune_level as (

    select
        'commune' as grain,
        spine.commune_key,
        units.district_code,
        units.province_code,
        spine.survey_year,
        spine.agency_type,
        coalesce(commune_counts.responses, 0) as responses,
        coalesce(commune_counts.access_valid, 0) as access_valid,
        coalesce(commune_counts.access_satisfied, 0) as access_satisfied,
        coalesce(commune_counts.procedure_valid, 0) as procedure_valid,
        coalesce(commune_counts.procedure_satisfied, 0) as procedure_satisfied,
        coalesce(commune_counts.staff_valid, 0) as staff_valid,
        coalesce(commune_counts.staff_satisfied, 0) as staff_satisfied,
        coalesce(commune_counts.result_valid, 0) as result_valid,
        coalesce(commune_counts.result_satisfied, 0) as result_satisfied,
        coalesce(commune_counts.feedback_valid, 0) as feedback_valid,
        coalesce(commune_counts.feedback_satisfied, 0) as feedback_satisfied
    from spine
    inner join units
        on spine.commune_key = units.commune_key
    left join commune_counts
        on
            spine.commune_key = commune_counts.commune_key
            and spine.survey_year = commune_counts.survey_year
            and spine.agency_type = commune_counts.agency_type

),

district_level as (

    select
        'district' as grain,
        null as commune_key,
        district_code,
        province_code,
        survey_year,
        agency_type,
        {%- for column in pooled_counts %}
            sum({{ column }}) as {{ column }},
        {%- endfor %}
        sum(feedback_satisfied) as feedback_satisfied
    from commune_level
    -- districts were abolished on 1/7/2025: years that end by then only
    where
        district_code is not null
        and make_date(survey_year, 12, 31) <= {{ district_level_last_day() }}
    group by district_code, province_code, survey_year, agency_type

),

province_level as (

    select
        'province' as grain,
        null as commune_key,
        null as district_code,
        province_code,
        survey_year,
        agency_type,
        {%- for column in pooled_counts %}
            sum({{ column }}) as {{ column }},
        {%- endfor %}
        sum(feedback_satisfied) as feedback_satisfied
    from commune_level
    group by province_code, survey_year, agency_type

),

pooled as (

    select * from commune_level
    union all
    select * from district_level
    union all
    select * from province_level

),

element_indices as (

    select
        *,
        100.0 * access_satisfied / nullif(access_valid, 0) as idx_access_exact,
        100.0 * procedure_satisfied / nullif(procedure_valid, 0) as idx_procedure_exact,
        100.0 * staff_satisfied / nullif(staff_valid, 0) as idx_staff_exact,
        100.0 * result_satisfied / nullif(result_valid, 0) as idx_result_exact,
        100.0 * feedback_satisfied / nullif(feedback_valid, 0) as idx_feedback_exact
    from pooled

),

indexed as (

    select
        *,
        round(
            (
                coalesce(idx_access_exact, 0)
                + coalesce(idx_procedure_exact, 0)
                + coalesce(idx_staff_exact, 0)
                + coalesce(idx_result_exact, 0)
                + coalesce(idx_feedback_exact, 0)
            )
            / nullif(
                (idx_access_exact is not null)::int
                + (idx_procedure_exact is not null)::int
                + (idx_staff_exact is not null)::int
                + (idx_result_exact is not null)::int
                + (idx_feedback_exact is not null)::int,
                0
            ),
            2
        ) as satisfaction_index
    from element_indices

),

final as (

    select
        indexed.grain,
        indexed.commune_key,
        indexed.district_code,
        indexed.province_code,
        indexed.survey_year,
        indexed.agency_type,
        indexed.responses::bigint as responses,
        round(indexed.idx_access_exact, 2) as idx_access,
        round(indexed.idx_procedure_exact, 2) as idx_procedure,
        round(indexed.idx_staff_exact, 2) as idx_staff,
        round(indexed.idx_result_exact, 2) as idx_result,
        round(indexed.idx_feedback_exact, 2) as idx_feedback,
        indexed.satisfaction_index,
        bands.rating,
        targets.target_pct as target,
        indexed.satisfaction_index >= targets.target_pct as meets_target,
        indexed.responses >= {{ var('min_reliable_responses') }} as reliable
    from indexed
    left join bands
        on
            indexed.satisfaction_index >= coalesce(bands.lower_bound, '-infinity'::numeric)
            and indexed.satisfaction_index < coalesce(bands.upper_bound, 'infinity'::numeric)
    left join targets
        on indexed.survey_year = targets.survey_year

)

select * from final
