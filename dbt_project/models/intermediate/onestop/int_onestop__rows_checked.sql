{{
    config(
        materialized='incremental',
        unlogged=true,
        unique_key=['file_id', 'row_number'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['file_id', 'row_number'], 'unique': true},
            {'columns': ['is_valid', 'arrival_at']},
            {'columns': ['dossier_code']},
            {'columns': ['checked_for_run_date']},
        ],
        pre_hook=["{{ no_jit_when_incremental() }}", "set local enable_mergejoin = off"],
        post_hook="{{ analyze_if_new() }}",
    )
}}

{#-
    Every staged one-stop-shop row with the list of quarantine reasons of
    docs/sources.md §1 and of the values a rule or the grain depends on that lie
    outside their vocabulary or range (empty list = valid; the codes are
    listed in _onestop__models.yml). This is the only place where those
    rules live: quarantine.onestop_rows keeps the rows with a reason,
    int_onestop__dossiers_current the others, ops.file_reconciliation counts
    both. The texts as delivered and the personal data are kept for the
    quarantined rows only, which quarantine.onestop_rows shows: a valid row
    goes on with its typed values and its contact checks, and the table, the
    largest of a build, is ~40 % narrower to write, index and read.
    Incremental: only the rows of files not checked yet are read (a file is
    loaded in one transaction, so a file is either all here or not at all).
    arrival_at, the file's loaded_at (or just after the latest arrival
    already here, should a file commit after a newer one was checked), orders
    the rows as they became visible: the incremental models downstream take
    the rows that arrived after their own high-water mark. It does not change
    when the model is rebuilt. One index on (is_valid, arrival_at) finds both
    the valid rows arrived after a mark (the incremental models downstream)
    and the quarantined rows (quarantine.onestop_rows): one pass over the
    table to build it, not two. The reasons are computed once per row (a
    computed_once lateral), not once per use of is_valid. A quarantined row
    whose only fault may be its unit (unknown code, no unit on the received
    date) is checked again by the next run once its code names a unit on
    that date (an operator added it to admin_units_local): it then arrives
    anew for the models downstream. After editing the range vars of
    dbt_project.yml, run with --full-refresh (and everything downstream with
    it: `dbt build --full-refresh`).
    No merge joins: the planner cannot know how many distinct unit codes the
    staging view yields (an expression), guesses 200, so expects each row to
    match ~50 units; it sorted every staged row (~1 KB wide, ~10 GB at 10M
    rows) by unit code to merge it with the reference, kept the result in a
    Materialize node and computed the reasons in the leader process alone.
    With hash joins on the reference (13k rows) the scan, the lookups and the
    reasons all run in the parallel workers, without those temporary files.
    The time of a full build did not change measurably with it (at 10M
    dossiers 265 s before, 270 s after, indexes included, on a machine whose
    builds vary by more): the staging expressions' CPU is this model's cost
    (docs/benchmarks.md, 2026-12-07).
-#}
-- depends_on: {{ ref('stg_loader__load_files') }}

{#- the quarantine reasons of a row (empty = valid), in the documented order -#}
{%- set reasons -%}
case
    -- a malformed record's fields cannot be trusted: that is its only reason
    when staged_rows.row_error is not null then array['malformed_row']
    else array_remove(
        array[
            case when staged_rows.dossier_code is null then 'empty_dossier_code' end,
            case when unit_codes.commune_code is null then 'unknown_unit_code' end,
            case
                when staged_rows.received_at::date < unit_codes.first_day
                    then 'received_before_unit_valid'
            end,
            case
                when
                    staged_rows.received_at::date >= unit_codes.first_day
                    and unit_on_day.commune_key is null
                    then 'unit_not_valid_on_received_date'
            end,
            case
                when cardinality(staged_rows.unparseable_dates) > 0
                    then 'unparseable_date'
            end,
            case
                when staged_rows.received_at_text is null
                    then 'missing_received_date'
            end,
            case when staged_rows.status is null then 'unknown_status' end,
            -- an empty channel or reception place is allowed (optional
            -- columns): received_unknown_channel, received_outside_one_stop
            case
                when staged_rows.channel is null and staged_rows.channel_text is not null
                    then 'unknown_channel'
            end,
            case
                when
                    staged_rows.reception_place is null
                    and staged_rows.reception_place_text is not null
                    then 'unknown_reception_place'
            end,
            case
                when
                    staged_rows.due_at_text is null
                    and (staged_rows.status is distinct from {{ vocabulary_value('status', 'refused') }})
                    then 'missing_due_date'
            end,
            case
                when staged_rows.due_at::date < staged_rows.received_at::date
                    then 'due_before_received'
            end,
            case
                when staged_rows.due_at::date > {{ promised_date_limit('staged_rows') }}
                    then 'due_too_far'
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
                    staged_rows.status in {{ vocabulary_values('status', category='result') }}
                    and staged_rows.result_at_text is null
                    and staged_rows.returned_at_text is null
                    then 'result_status_without_result_date'
            end,
            -- what the record says happened cannot have happened after its
            -- file was loaded
            case
                when staged_rows.received_at::date > {{ load_day_limit('staged_rows') }}
                    then 'received_after_load'
            end,
            case
                when staged_rows.result_at::date > {{ load_day_limit('staged_rows') }}
                    then 'result_after_load'
            end,
            case
                when staged_rows.returned_at::date > {{ load_day_limit('staged_rows') }}
                    then 'returned_after_load'
            end,
            case
                when staged_rows.apology_at::date > {{ load_day_limit('staged_rows') }}
                    then 'apology_after_load'
            end,
            case
                when
                    staged_rows.apology_due_at::date
                    > {{ promised_date_limit('staged_rows') }}
                    then 'apology_due_too_far'
            end,
            case
                when staged_rows.updated_at::date > {{ load_day_limit('staged_rows') }}
                    then 'updated_after_load'
            end
        ],
        null
    )
end
{%- endset -%}
{%- set verdict = [('quarantine_reasons', 'text[]', reasons)] %}

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

    unit_rechecks as (

        -- through the index on (is_valid, arrival_at): the quarantined rows only
        select
            this_run.file_id,
            this_run.row_number
        from {{ this }} as this_run
        where
            not this_run.is_valid
            and this_run.quarantine_reasons && array[
                'unknown_unit_code', 'received_before_unit_valid',
                'unit_not_valid_on_received_date'
            ]
            and exists (
                select 1 from {{ ref('int_units__commune_lookup') }} as commune_lookup
                where
                    this_run.unit_code = commune_lookup.commune_code
                    and this_run.received_at::date
                    between commune_lookup.lookup_from and commune_lookup.lookup_to
            )

    ),

{% endif %}

staged_rows as (

    select staged.* from {{ ref('stg_onestop__dossier_rows') }} as staged
    -- incremental: filters on the raw scan itself (an array, not a join), so
    -- the staging expressions only run for the new rows; the range lets the
    -- BRIN index on raw file_id skip the blocks of the files checked before
    -- (the loader keeps its summaries and the column's statistics current,
    -- see loader.maintain_loaded). Both bounds: with subqueries' values the
    -- planner counts a range as 0.5 % of the table, one bound as a third
    {% if is_incremental() %}
        where
            staged.file_id = any(array(select new_files.file_id from new_files))
            and staged.file_id between (select min(new_files.file_id) from new_files)
            and (select max(new_files.file_id) from new_files)

        union all

        -- quarantined rows whose unit now resolves (admin_units_local, a new
        -- reference): checked again, without their files being re-delivered
        select staged.* from {{ ref('stg_onestop__dossier_rows') }} as staged
        where
            staged.file_id = any(array(select unit_rechecks.file_id from unit_rechecks))
            and staged.file_id between (select min(unit_rechecks.file_id) from unit_rechecks)
            and (select max(unit_rechecks.file_id) from unit_rechecks)
            and (staged.file_id, staged.row_number) in (
                select
                    unit_rechecks.file_id,
                    unit_rechecks.row_number
                from unit_rechecks
            )
    {% endif %}

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
        verdict.quarantine_reasons  -- noqa: RF01
    from staged_rows
    -- read by the reasons, which sqlfluff cannot see
    left join unit_codes  -- noqa: ST11
        on staged_rows.unit_code = unit_codes.commune_code
    -- the unit version the code names on the received date, if any
    left join {{ ref('int_units__commune_lookup') }} as unit_on_day  -- noqa: ST11
        on
            staged_rows.unit_code = unit_on_day.commune_code
            and staged_rows.received_at::date
            between unit_on_day.lookup_from and unit_on_day.lookup_to
    -- the reasons once per row (ROWS FROM, which sqlfluff cannot parse: see
    -- macro computed_once): as a plain column, the planner would paste the
    -- whole list into each of the ~20 uses of is_valid below
    cross join lateral {{ computed_once('verdict', verdict) }}  -- noqa: PRS

),

judged as (

    select
        checked.*,
        cardinality(checked.quarantine_reasons) = 0 as is_valid
    from checked

),

final as (

    select
        file_id,
        batch_id,
        file_name,
        row_number,
        loaded_at,
        row_error,
        case when not is_valid then raw_record end as raw_record,
        dossier_code,
        unit_code,
        case when not is_valid then unit_name end as unit_name,
        procedure_code,
        procedure_name,
        sector,
        channel,
        case when not is_valid then channel_text end as channel_text,
        -- the canonical value of a valid row; as delivered for a quarantined one
        case when is_valid then reception_place else reception_place_text end
            as reception_place,
        status,
        case when not is_valid then status_text end as status_text,
        received_at,
        due_at,
        result_at,
        returned_at,
        apology_at,
        apology_due_at,
        updated_at,
        case when not is_valid then received_at_text end as received_at_text,
        case when not is_valid then due_at_text end as due_at_text,
        case when not is_valid then result_at_text end as result_at_text,
        case when not is_valid then returned_at_text end as returned_at_text,
        case when not is_valid then apology_at_text end as apology_at_text,
        case when not is_valid then apology_due_at_text end as apology_due_at_text,
        case when not is_valid then updated_at_text end as updated_at_text,
        unparseable_dates,
        case when not is_valid then applicant_name end as applicant_name,
        case when not is_valid then address end as address,
        case when not is_valid then phone end as phone,
        case when not is_valid then email end as email,
        quarantine_reasons,
        is_valid,
        -- the contact checks, once per row, on the staged values: only these
        -- flags go downstream
        {{ is_contact_present('address') }} as address_present,
        {{ is_phone_valid('phone') }} as phone_valid,
        {{ is_email_valid('email') }} as email_valid,
        -- the optional columns of the 766 index, read in staging (null = the
        -- file lacked the column); a malformed value is a finding, not a reason
        e_result,
        digitised,
        has_fee,
        paid_online,
        rated_dissatisfied,
        nullif(malformed_optional_values, '{}') as malformed_optional_values,
        {% if is_incremental() -%}
            -- the latest arrival, valid or not: one probe of the index on
            -- (is_valid, arrival_at) for each
            greatest(
                loaded_at,
                (
                    select max(this_run.arrival_at) from {{ this }} as this_run
                    where this_run.is_valid
                )
                + interval '1 microsecond',
                (
                    select max(this_run.arrival_at) from {{ this }} as this_run
                    where not this_run.is_valid
                )
                + interval '1 microsecond'
            )
        {%- else -%}
            loaded_at
        {%- endif %} as arrival_at,
        -- the rows this run checked (its data tests look at these only,
        -- through a b-tree: the night's rows also fill free space all over
        -- the table, so a BRIN index matched most of it)
        '{{ run_date() }}'::date as checked_for_run_date
    from judged

)

select * from final
