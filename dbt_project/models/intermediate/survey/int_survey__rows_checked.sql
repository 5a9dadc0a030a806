{#-
    Every staged survey row with the list of quarantine reasons (empty list
    = valid): those of docs/sources.md §2 (a malformed record, a `Mã đơn vị` not
    in the unit reference, a `Năm` that does not parse) and every value the
    grain (commune × year × service) depends on outside its vocabulary or
    range: an unknown or empty `Cơ quan`, a `Ngày khảo sát` that does not
    parse or lies outside `Năm` and the year after (a year's survey may be
    carried out after it ends, never before it begins), a survey day before
    the unit reference knows the code or on which the code names no unit
    (the unit valid on the survey day answers for it), a year or date after the day its
    file was loaded (macro load_day_limit). Answers that are not 1..5 are
    not a reason: they only void that element. The codes are listed in
    _survey__models.yml; the only place these rules live.
-#}
with

staged_rows as (

    select * from {{ ref('stg_survey__responses') }}

),

unit_codes as (

    -- each code of the unit reference with the first day it names a unit
    select distinct
        commune_code,
        code_first_day as first_day
    from {{ ref('int_units__commune_lookup') }}

),

checked as (

    select
        staged_rows.*,
        case
            -- a malformed record's fields cannot be trusted: that is its only reason
            when staged_rows.row_error is not null then array['malformed_row']
            else array_remove(
                array[
                    case when unit_codes.commune_code is null then 'unknown_unit_code' end,
                    case when staged_rows.survey_year is null then 'unparseable_year' end,
                    case when staged_rows.agency_type is null then 'unknown_agency' end,
                    case
                        when
                            staged_rows.survey_date_text is not null
                            and staged_rows.survey_date is null
                            then 'unparseable_survey_date'
                    end,
                    case
                        when
                            staged_rows.survey_date
                            not between make_date(staged_rows.survey_year, 1, 1)
                            and make_date(staged_rows.survey_year + 1, 12, 31)
                            then 'survey_date_outside_year'
                    end,
                    case
                        when {{ survey_day('staged_rows') }} < unit_codes.first_day
                            then 'surveyed_before_unit_valid'
                    end,
                    case
                        when
                            {{ survey_day('staged_rows') }} >= unit_codes.first_day
                            and unit_on_day.commune_key is null
                            then 'unit_not_valid_on_survey_date'
                    end,
                    case
                        when
                            staged_rows.survey_year
                            > extract(year from {{ load_day_limit('staged_rows') }})
                            then 'survey_year_after_load'
                    end,
                    case
                        when staged_rows.survey_date > {{ load_day_limit('staged_rows') }}
                            then 'survey_date_after_load'
                    end
                ],
                null
            )
        end as quarantine_reasons
    from staged_rows
    left join unit_codes
        on staged_rows.unit_code = unit_codes.commune_code
    -- the unit version the code names on the survey day, if any
    left join {{ ref('int_units__commune_lookup') }} as unit_on_day
        on
            staged_rows.unit_code = unit_on_day.commune_code
            and {{ survey_day('staged_rows') }}
            between unit_on_day.lookup_from and unit_on_day.lookup_to

),

final as (

    select
        file_id,
        batch_id,
        file_name,
        row_number,
        loaded_at,
        load_day,
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
