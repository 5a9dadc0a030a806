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
    The free-text comment may hold personal data: it stays here.
-#}
with

checked_rows as (

    select * from {{ ref('int_survey__rows_checked') }}
    where not is_valid

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
                        else reasons.code
                    end,
                    '; ' order by reasons.position
                )
            from unnest(checked_rows.quarantine_reasons) with ordinality
                as reasons (code, position)
        ) as reason
    from checked_rows

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
