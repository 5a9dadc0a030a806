{#-
    One row per survey response: valid rows only, and the same `Mã phiếu`
    in several files is one response, taken from the file whose name sorts
    last (then the last row). A row without `Mã phiếu` is its own response.
    The unit version is the one the code meant on the survey date, or on
    1 July of the survey year when the date is missing (macro survey_day;
    a row whose code meant no unit yet that day is quarantined). As of the
    run date, like the period marts: a response of a later year, or dated
    after the run date, does not count yet (an as-of run for a past date;
    in a nightly run the quarantine's load-day bound already keeps them
    out). No personal data: the free-text comment is left out.
-#}
with

valid_rows as (

    select * from {{ ref('int_survey__rows_checked') }}
    where is_valid

),

commune_lookup as (

    select * from {{ ref('int_units__commune_lookup') }}

),

ranked as (

    select
        *,
        coalesce(response_id, file_id || ':' || row_number) as response_key,
        row_number() over (
            partition by coalesce(response_id, file_id || ':' || row_number)
            order by file_name collate "C" desc, file_id desc, row_number desc
        ) as version_rank
    from valid_rows

),

final as (

    select
        ranked.response_key,
        ranked.response_id,
        ranked.survey_year,
        commune_lookup.commune_key,
        ranked.unit_code as commune_code,
        ranked.agency_type,
        ranked.survey_date,
        ranked.ans_access,
        ranked.ans_procedure,
        ranked.ans_staff,
        ranked.ans_result,
        ranked.ans_feedback,
        ranked.dossier_code,
        ranked.file_name as source_file_name,
        ranked.row_number as source_row_number
    from ranked
    left join commune_lookup
        on
            ranked.unit_code = commune_lookup.commune_code
            and {{ survey_day('ranked') }}
            between commune_lookup.lookup_from and commune_lookup.lookup_to
    where
        ranked.version_rank = 1
        and ranked.survey_year <= extract(year from '{{ run_date() }}'::date)
        and (ranked.survey_date is null or ranked.survey_date <= '{{ run_date() }}'::date)

)

select * from final
