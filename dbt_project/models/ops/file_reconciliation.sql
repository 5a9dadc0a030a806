{{
    config(
        materialized='incremental',
        unique_key='file_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

{#-
    Every delivered file (raw.load_files): rows the loader read, rows found
    in raw, rows loaded (valid) and rows quarantined. For a loaded file,
    rows_read = rows_loaded + rows_quarantined (tested): no row is lost.
    Incremental: a file's rows never change once loaded, so only the files
    not here yet are counted, their rows found through the file_id index.
    Their ids are looked up first and written into the query as constants:
    as a subquery, the planner could not tell how many rows they have and
    scanned the whole table instead.
-#}
{%- set new_file_ids = [] -%}
{%- if is_incremental() and execute -%}
    {%- set new_file_ids = run_query(
        'select file_id from ' ~ ref('stg_loader__load_files')
        ~ ' where file_id not in (select file_id from ' ~ this ~ ') order by file_id'
    ).columns[0].values() | list -%}
{%- endif %}
{%- set new_files = "array[" ~ (new_file_ids | join(', ')) ~ "]::bigint[]" %}
with

files as (

    select * from {{ ref('stg_loader__load_files') }}
    {% if is_incremental() %}
        where file_id = any({{ new_files }})
    {% endif %}

),

onestop_rows as (

    select * from {{ ref('int_onestop__rows_checked') }}
    {% if is_incremental() %}
        where file_id = any({{ new_files }})
    {% endif %}

),

survey_rows as (

    select * from {{ ref('int_survey__rows_checked') }}
    {% if is_incremental() %}
        where file_id = any({{ new_files }})
    {% endif %}

),

row_counts as (

    select
        file_id,
        count(*) as rows_in_raw,
        count(*) filter (where is_valid) as rows_loaded,
        count(*) filter (where not is_valid) as rows_quarantined
    from onestop_rows
    group by file_id

    union all

    select
        file_id,
        count(*) as rows_in_raw,
        count(*) filter (where is_valid) as rows_loaded,
        count(*) filter (where not is_valid) as rows_quarantined
    from survey_rows
    group by file_id

),

final as (

    select
        files.file_id,
        files.batch_id,
        files.source,
        files.file_name,
        files.file_format,
        files.status,
        files.error,
        files.loaded_at,
        files.rows_read,
        coalesce(row_counts.rows_in_raw, 0) as rows_in_raw,
        coalesce(row_counts.rows_loaded, 0) as rows_loaded,
        coalesce(row_counts.rows_quarantined, 0) as rows_quarantined
    from files
    left join row_counts
        on files.file_id = row_counts.file_id

)

select * from final
