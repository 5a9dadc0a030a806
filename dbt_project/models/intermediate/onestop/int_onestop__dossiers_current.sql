{{
    config(
        materialized='incremental',
        unique_key='dossier_code',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['dossier_code'], 'unique': true},
            {'columns': ['last_batch_id']},
        ],
    )
}}

{#-
    Current state of every dossier: among its valid rows, the one with the
    latest `Cập nhật lúc`; on a tie, the row of the file whose name sorts
    last, then the last row of that file. The unit version is the one the
    code meant on the received date. Incremental: only dossiers with a
    valid row in a new batch are recomputed, from all their valid rows.
-#}
with

valid_rows as (

    select * from {{ ref('int_onestop__rows_checked') }}
    where is_valid

),

candidate_rows as (

    -- incremental: every valid row of the dossiers that got one in a new batch
    select valid_rows.*
    from valid_rows
    {% if is_incremental() %}
        where valid_rows.dossier_code in (
            select changed.dossier_code
            from valid_rows as changed
            where
                changed.batch_id
                >= (select coalesce(max(this_run.last_batch_id), 0) from {{ this }} as this_run)
        )
    {% endif %}

),

commune_lookup as (

    select * from {{ ref('int_units__commune_lookup') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by dossier_code
            order by updated_at desc nulls last, file_name collate "C" desc, row_number desc
        ) as version_rank,
        count(*) over (partition by dossier_code) as valid_rows_seen,
        max(batch_id) over (partition by dossier_code) as last_batch_id
    from candidate_rows

),

final as (

    select
        ranked.dossier_code,
        commune_lookup.commune_key,
        ranked.unit_code as commune_code,
        ranked.procedure_code,
        ranked.procedure_name,
        ranked.sector,
        ranked.channel,
        ranked.reception_place,
        ranked.status,
        ranked.received_at,
        ranked.due_at,
        ranked.result_at,
        ranked.returned_at,
        ranked.apology_at,
        ranked.apology_due_at,
        ranked.updated_at,
        ranked.address,
        ranked.phone,
        ranked.email,
        ranked.file_id as source_file_id,
        ranked.file_name as source_file_name,
        ranked.row_number as source_row_number,
        ranked.valid_rows_seen,
        ranked.last_batch_id
    from ranked
    left join commune_lookup
        on
            ranked.unit_code = commune_lookup.commune_code
            and ranked.received_at::date between commune_lookup.lookup_from
            and commune_lookup.lookup_to
    where ranked.version_rank = 1

)

select * from final
