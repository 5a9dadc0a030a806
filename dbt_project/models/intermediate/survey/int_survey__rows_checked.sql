{#-
    Every staged survey row with the list of quarantine reasons of
    SOURCES.md §2 (empty list = valid): a malformed record, a `Mã đơn vị`
    not in the unit reference, a `Năm` that does not parse. Answers that are
    not 1..5 are not a reason: they only void that element.
-#}
with

staged_rows as (

    select * from {{ ref('stg_survey__responses') }}

),

known_units as (

    select distinct commune_code from {{ ref('stg_reference__admin_units') }}

),

checked as (

    select
        staged_rows.*,
        case
            -- a malformed record's fields cannot be trusted: that is its only reason
            when staged_rows.row_error is not null then array['malformed_row']
            else array_remove(
                array[
                    case when known_units.commune_code is null then 'unknown_unit_code' end,
                    case when staged_rows.survey_year is null then 'unparseable_year' end
                ],
                null
            )
        end as quarantine_reasons
    from staged_rows
    left join known_units
        on staged_rows.unit_code = known_units.commune_code

),

final as (

    select
        file_id,
        batch_id,
        file_name,
        row_number,
        loaded_at,
        row_error,
        raw_record,
        response_id,
        survey_year,
        survey_year_text,
        unit_code,
        agency_type,
        agency_text,
        survey_date,
        survey_date_text,
        ans_access,
        ans_procedure,
        ans_staff,
        ans_result,
        ans_feedback,
        ans_access_text,
        ans_procedure_text,
        ans_staff_text,
        ans_result_text,
        ans_feedback_text,
        dossier_code,
        comment,
        quarantine_reasons,
        cardinality(quarantine_reasons) = 0 as is_valid
    from checked

)

select * from final
