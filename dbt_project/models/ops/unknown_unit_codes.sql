{#-
    The unit codes the data uses on dates on which the reference names no
    unit with them, per source and code: how many rows, their first and last
    date, the files they came in. The packages do not know every unit that
    the merges before 2024 removed, and a code is never guessed: an operator
    adds the unit (code, name, validity, successor) to the editable seed
    admin_units_local, and the next run loads these rows from quarantine.
    Rows whose date did not parse are counted without dates.
-#}
with

onestop_rows as (

    -- through the index on (is_valid, arrival_at): the quarantined rows only
    select
        'onestop' as source,
        unit_code,
        received_at::date as row_date,
        file_name
    from {{ ref('int_onestop__rows_checked') }}
    where
        not is_valid
        and quarantine_reasons && array[
            'unknown_unit_code', 'received_before_unit_valid', 'unit_not_valid_on_received_date'
        ]

),

survey_rows as (

    select
        'survey' as source,
        survey_checked.unit_code,
        {{ survey_day('survey_checked') }} as row_date,
        survey_checked.file_name
    from {{ ref('int_survey__rows_checked') }} as survey_checked
    where
        not survey_checked.is_valid
        and survey_checked.quarantine_reasons && array[
            'unknown_unit_code', 'surveyed_before_unit_valid', 'unit_not_valid_on_survey_date'
        ]

),

unioned as (

    select * from onestop_rows
    union all
    select * from survey_rows

),

final as (

    select
        source,
        coalesce(unit_code, '') as unit_code,
        count(*) as quarantined_rows,
        min(row_date) as first_date,
        max(row_date) as last_date,
        count(distinct file_name) as files,
        array_agg(distinct file_name order by file_name) as file_names
    from unioned
    group by source, coalesce(unit_code, '')

)

select * from final
