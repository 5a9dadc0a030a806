{#-
    Every raw survey row with its lineage, text normalised (NFC, trimmed,
    empty -> null), the year and date parsed safely, the agency mapped to
    its canonical name (seed vocabularies; null when not in it) and each answer
    turned into 1..5 (number or label) or null. Nothing is filtered here:
    int_survey__rows_checked applies the quarantine rules.
-#}
with

source as (

    select * from {{ source('survey', 'survey_rows') }}

),

cleaned as (

    select
        file_id::bigint as file_id,
        batch_id::bigint as batch_id,
        file_name,
        row_number::bigint as row_number,
        loaded_at,
        {{ local_date('loaded_at') }} as load_day,
        {{ clean_text('row_error') }} as row_error,
        raw_record,
        {{ clean_text('response_id') }} as response_id,
        {{ clean_text('survey_year') }} as survey_year_text,
        {{ clean_text('unit_code') }} as unit_code_text,
        {{ clean_text('agency') }} as agency_text,
        {{ clean_text('survey_date') }} as survey_date_text,
        {{ clean_text('ans_access') }} as ans_access_text,
        {{ clean_text('ans_procedure') }} as ans_procedure_text,
        {{ clean_text('ans_staff') }} as ans_staff_text,
        {{ clean_text('ans_result') }} as ans_result_text,
        {{ clean_text('ans_feedback') }} as ans_feedback_text,
        {{ clean_text('dossier_code') }} as dossier_code,
        {{ clean_text('comment') }} as comment

    from source

),

parsed as (

    select
        *,
        {{ vn_datetime_parts('survey_date_text') }} as survey_date_parts

    from cleaned

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
        case
            when
                survey_year_text ~ '^[0-9]{4}([.,]0+)?$'
                and left(survey_year_text, 4)::int between 1900 and 2100
                then left(survey_year_text, 4)::int
        end as survey_year,
        survey_year_text,
        {{ gso_code('unit_code_text') }} as unit_code,
        {{ map_vocabulary('agency_text', vocabulary_mapping('agency')) }} as agency_type,
        agency_text,
        ({{ vn_datetime_from_parts('survey_date_parts') }})::date as survey_date,
        survey_date_text,
        {{ survey_answer_score('ans_access_text') }} as ans_access,
        {{ survey_answer_score('ans_procedure_text') }} as ans_procedure,
        {{ survey_answer_score('ans_staff_text') }} as ans_staff,
        {{ survey_answer_score('ans_result_text') }} as ans_result,
        {{ survey_answer_score('ans_feedback_text') }} as ans_feedback,
        ans_access_text,
        ans_procedure_text,
        ans_staff_text,
        ans_result_text,
        ans_feedback_text,
        dossier_code,
        comment

    from parsed

)

select * from final
