{{
    config(
        indexes=[
            {'columns': ['file_id', 'row_number'], 'unique': true},
        ]
    )
}}

{#-
    Survey rows that cannot be used, with their lineage, the reasons (codes
    and a readable text) and the values as delivered (NFC, trimmed).
    The free-text comment may hold personal data: it stays here. The rules
    are int_survey__rows_checked's; this only words them.
-#}
{%- set after_load -%}
    ' more than {{ var('load_grace_days') }} day{{ 's' if var('load_grace_days') != 1 }}'
    || ' after its file was loaded (' || checked_rows.load_day || ')'
{%- endset %}
with

checked_rows as (

    select * from {{ ref('int_survey__rows_checked') }}
    where not is_valid

),

unit_codes as (

    select distinct
        commune_code,
        code_first_day as first_day
    from {{ ref('int_units__commune_lookup') }}

),

explained as (

    select
        checked_rows.*,
        (
            select
                string_agg(
                    case reasons.code
                        when 'malformed_row' then 'malformed row: ' || checked_rows.row_error
                        when 'unknown_unit_code'
                            then
                                'Mã đơn vị '
                                || coalesce(quote_literal(checked_rows.unit_code), 'empty')
                                || ' not in the administrative-unit reference'
                        when 'unparseable_year'
                            then
                                'Năm '
                                || coalesce(quote_literal(checked_rows.survey_year_text), 'empty')
                                || ' does not parse'
                        when 'unknown_agency'
                            then
                                'Cơ quan '
                                || coalesce(
                                    quote_literal(checked_rows.agency_text) || ' is', 'empty:'
                                )
                                || ' not UBND, Trạm y tế or Trường học'
                        when 'unparseable_survey_date'
                            then
                                'Ngày khảo sát '
                                || quote_literal(checked_rows.survey_date_text)
                                || ' does not parse'
                        when 'survey_date_outside_year'
                            then
                                'Ngày khảo sát '
                                || quote_literal(checked_rows.survey_date_text)
                                || ' neither in Năm ' || checked_rows.survey_year
                                || ' nor in the year after'
                        when 'surveyed_before_unit_valid'
                            then
                                case
                                    when checked_rows.survey_date is not null
                                        then
                                            'Ngày khảo sát '
                                            || quote_literal(checked_rows.survey_date_text)
                                    else
                                        'survey day '
                                        || {{ survey_day('checked_rows') }}
                                        || ' (1 July of Năm, no Ngày khảo sát)'
                                end
                                || ' is before ' || unit_codes.first_day
                                || ', the first day on which the administrative-unit'
                                || ' reference knows Mã đơn vị '
                                || quote_literal(checked_rows.unit_code)
                        when 'unit_not_valid_on_survey_date'
                            then
                                'Mã đơn vị ' || quote_literal(checked_rows.unit_code)
                                || ' names no unit of the administrative-unit reference'
                                || ' on the survey day ' || {{ survey_day('checked_rows') }}
                        when 'survey_year_after_load'
                            then
                                'Năm ' || checked_rows.survey_year
                                || ' after its file was loaded (' || checked_rows.load_day
                                || ')'
                        when 'survey_date_after_load'
                            then
                                'Ngày khảo sát '
                                || quote_literal(checked_rows.survey_date_text)
                                || {{ after_load }}
                        else reasons.code
                    end,
                    '; ' order by reasons.position
                )
            from unnest(checked_rows.quarantine_reasons) with ordinality
                as reasons (code, position)
        ) as reason
    from checked_rows
    left join unit_codes
        on checked_rows.unit_code = unit_codes.commune_code

),

final as (

    select
        file_name,
        file_id,
        row_number,
        batch_id,
        loaded_at,
        quarantine_reasons as reasons,
        reason,
        row_error,
        raw_record,
        response_id,
        survey_year_text as survey_year,
        unit_code,
        agency_text as agency,
        survey_date_text as survey_date,
        ans_access_text as ans_access,
        ans_procedure_text as ans_procedure,
        ans_staff_text as ans_staff,
        ans_result_text as ans_result,
        ans_feedback_text as ans_feedback,
        dossier_code,
        comment
    from explained

)

select * from final
