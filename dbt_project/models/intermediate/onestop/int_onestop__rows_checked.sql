{{
    config(
        materialized='incremental',
        unique_key=['file_id', 'row_number'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['file_id', 'row_number'], 'unique': true},
            {'columns': ['arrival_at']},
            {'columns': ['dossier_code']},
            {'columns': ['is_valid']},
            {'columns': ['checked_for_run_date']},
        ],
        post_hook="{{ analyze_if_new() }}",
    )
}}

{#-
    Every staged one-stop-shop row with the list of quarantine reasons of
    SOURCES.md §1 (empty list = valid). This is the only place where those
    rules live: quarantine.onestop_rows keeps the rows with a reason,
    int_onestop__dossiers_current the others, ops.file_reconciliation counts
    both. Incremental: only the rows of files not checked yet are read (a
    file is loaded in one transaction, so a file is either all here or not
    at all). arrival_at, the file's loaded_at (or just after the latest
    arrival already here, should a file commit after a newer one was
    checked), orders the rows as they became visible: the incremental models
    downstream take the rows that arrived after their own high-water mark.
    It does not change when the model is rebuilt. After editing the unit
    reference, run with --full-refresh (and everything downstream with it:
    `dbt build --full-refresh`).
-#}
-- depends_on: {{ ref('stg_loader__load_files') }}

with

{% if is_incremental() %}

    new_files as (

        -- loaded files with rows and no row checked yet (an empty file would
        -- stay "new" and hold the range below open for good). One probe of
        -- the key index per file, which this form (ordered by the index, limit
        -- 1) guarantees: a NOT EXISTS became an anti-join walking the whole
        -- index, and a plain limit a sequential scan, once statistics said
        -- most rows were of one file
        select files.file_id
        from {{ ref('stg_loader__load_files') }} as files
        where
            files.source = 'onestop'
            and files.status = 'loaded'
            and files.rows_read > 0
            and (
                select this_run.file_id from {{ this }} as this_run
                where this_run.file_id = files.file_id
                order by this_run.file_id, this_run.row_number
                limit 1
            ) is null

    ),

{% endif %}

staged_rows as (

    select staged.* from {{ ref('stg_onestop__dossier_rows') }} as staged
    -- incremental: filters on the raw scan itself (an array, not a join), so
    -- the staging expressions only run for the new rows; the range lets the
    -- BRIN index on raw file_id skip the blocks of the files checked before
    {% if is_incremental() %}
        where
            staged.file_id = any(array(select new_files.file_id from new_files))
            and staged.file_id >= (select min(new_files.file_id) from new_files)
    {% endif %}

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
                    case when staged_rows.dossier_code is null then 'empty_dossier_code' end,
                    case when known_units.commune_code is null then 'unknown_unit_code' end,
                    case
                        when cardinality(staged_rows.unparseable_dates) > 0
                            then 'unparseable_date'
                    end,
                    case
                        when staged_rows.received_at_text is null
                            then 'missing_received_date'
                    end,
                    case when staged_rows.status is null then 'unknown_status' end,
                    case
                        when
                            staged_rows.due_at_text is null
                            and (staged_rows.status is distinct from 'Từ chối tiếp nhận')
                            then 'missing_due_date'
                    end,
                    case
                        when staged_rows.due_at::date < staged_rows.received_at::date
                            then 'due_before_received'
                    end,
                    case
                        when staged_rows.result_at::date < staged_rows.received_at::date
                            then 'result_before_received'
                    end,
                    case
                        when staged_rows.returned_at::date < staged_rows.received_at::date
                            then 'returned_before_received'
                    end,
                    case
                        when
                            staged_rows.status in ('Đã có kết quả', 'Đã trả kết quả')
                            and staged_rows.result_at_text is null
                            and staged_rows.returned_at_text is null
                            then 'result_status_without_result_date'
                    end
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
        dossier_code,
        unit_code,
        unit_name,
        procedure_code,
        procedure_name,
        sector,
        channel,
        channel_text,
        reception_place,
        status,
        status_text,
        received_at,
        due_at,
        result_at,
        returned_at,
        apology_at,
        apology_due_at,
        updated_at,
        received_at_text,
        due_at_text,
        result_at_text,
        returned_at_text,
        apology_at_text,
        apology_due_at_text,
        updated_at_text,
        unparseable_dates,
        applicant_name,
        address,
        phone,
        email,
        quarantine_reasons,
        cardinality(quarantine_reasons) = 0 as is_valid,
        -- the contact checks, once per row: only these flags go downstream
        {{ is_contact_present('address') }} as address_present,
        {{ is_phone_valid('phone') }} as phone_valid,
        {{ is_email_valid('email') }} as email_valid,
        {% if is_incremental() -%}
            greatest(
                loaded_at,
                (select max(this_run.arrival_at) from {{ this }} as this_run)
                + interval '1 microsecond'
            )
        {%- else -%}
            loaded_at
        {%- endif %} as arrival_at,
        -- the rows this run checked (its data tests look at these only,
        -- through a b-tree: the night's rows also fill free space all over
        -- the table, so a BRIN index matched most of it)
        '{{ run_date() }}'::date as checked_for_run_date
    from checked

)

select * from final
