{{
    config(
        materialized='incremental',
        unlogged=true,
        unique_key='dossier_code',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['dossier_code'], 'unique': true},
            {'columns': ['last_arrival_at']},
            {'columns': ['computed_for_run_date']},
        ],
        pre_hook=["set local work_mem = '256MB'", "{{ no_jit_when_incremental() }}"],
        post_hook="{{ analyze_if_new() }}",
    )
}}

{#-
    Current state of every dossier: among its valid rows, the one with the
    latest `Cập nhật lúc`; on a tie, the row of the file whose name sorts
    last, then the last row of that file. The unit version is the one the
    code meant on the received date. Incremental: only the dossiers with a
    valid row arrived since the last run are recomputed, from all their
    valid rows (one sort, in parallel on a full build, with more memory than
    the server's default). Only the checks of the contact fields come here.
-#}
with

-- inlined at each use (not materialized), so that indexes, join removal and
-- parallel plans stay available
checked_rows as not materialized (

    select * from {{ ref('int_onestop__rows_checked') }}

),

candidate_rows as (

    -- every valid row of the dossiers to (re)compute
    select checked_rows.*
    from checked_rows
    -- incremental: of the dossiers with a valid row arrived since the last
    -- run (an array: both lookups go through the indexes of rows_checked),
    -- up to the latest arrival: with both bounds the planner counts the
    -- range as 0.5 % of the table, not a third (it cannot see the values),
    -- and reads the index whatever the table's size
    where
        checked_rows.is_valid
    {% if is_incremental() %}
        and checked_rows.dossier_code = any(array(
            select distinct changed.dossier_code
            from checked_rows as changed
            where
                changed.is_valid
                and changed.arrival_at > (
                    select coalesce(max(this_run.last_arrival_at), '-infinity')
                    from {{ this }} as this_run
                )
                and changed.arrival_at <= (
                    select max(latest.arrival_at)
                    from checked_rows as latest
                    where latest.is_valid
                )
        ))
    {% endif %}

),

commune_lookup as (

    select * from {{ ref('int_units__commune_lookup') }}

),

ranked as (

    select
        candidate_rows.*,
        row_number() over by_version as version_rank,
        count(*) over by_version as valid_rows_seen,
        max(candidate_rows.batch_id) over by_version as last_batch_id,
        max(candidate_rows.arrival_at) over by_version as last_arrival_at
    from candidate_rows
    -- partitioned by the code's bytes (collate "C"): the same groups as the
    -- database's collation (a deterministic one: equal means the same bytes),
    -- sorted by plain byte comparison instead of the locale's, ~15 % faster.
    -- One window for the rank and the dossier's totals (its frame is the
    -- whole dossier; row_number ignores the frame): one pass over the sorted
    -- rows, where a second, unordered window over the dossier buffered every
    -- partition again (its select alone at 10M dossiers: 52 s instead of 69 s,
    -- docs/benchmarks.md)
    window
        by_version as (
            partition by candidate_rows.dossier_code collate "C"
            order by {{ dossier_version_order('candidate_rows') }}
            rows between unbounded preceding and unbounded following
        )

),

current_rows as (

    select * from ranked
    where version_rank = 1

),

final as (

    select
        current_rows.dossier_code,
        commune_lookup.commune_key,
        current_rows.unit_code as commune_code,
        current_rows.procedure_code,
        current_rows.procedure_name,
        current_rows.sector,
        current_rows.channel,
        current_rows.reception_place,
        current_rows.status,
        current_rows.received_at,
        current_rows.due_at,
        current_rows.result_at,
        current_rows.returned_at,
        current_rows.apology_at,
        current_rows.apology_due_at,
        current_rows.updated_at,
        current_rows.address_present,
        current_rows.phone_valid,
        current_rows.email_valid,
        current_rows.e_result,
        current_rows.digitised,
        current_rows.has_fee,
        current_rows.paid_online,
        current_rows.rated_dissatisfied,
        current_rows.file_id as source_file_id,
        current_rows.file_name as source_file_name,
        current_rows.row_number as source_row_number,
        current_rows.valid_rows_seen,
        current_rows.last_batch_id,
        current_rows.last_arrival_at,
        -- the dossiers this run (re)computed (its data tests look at these only)
        '{{ run_date() }}'::date as computed_for_run_date
    from current_rows
    left join commune_lookup
        on
            current_rows.unit_code = commune_lookup.commune_code
            and current_rows.received_at::date between commune_lookup.lookup_from
            and commune_lookup.lookup_to

)

select * from final
