{{
    config(
        materialized='incremental',
        unlogged=true,
        unique_key=['commune_key', 'procedure_code', 'done_date', 'processing_working_days',
            'legal_working_days'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ no_jit_when_incremental() }}",
        indexes=[
            {'columns': ['commune_key', 'procedure_code', 'done_date', 'processing_working_days',
                'legal_working_days'], 'unique': true},
            {'columns': ['done_date']},
        ],
    )
}}

{#-
    A ledger of resolved dossiers per commune (unit version), procedure, done
    day, working days taken (received → done) and legal working days
    (received → due): what commune_processing_time sums over a period to get
    counts, means and percentiles without reading dossiers again. Working
    days in (a, b] = calendar index(b) - index(a): a dossier done on the day
    it was received took 0. Resolved = not withdrawn, with a done date (the
    docs/rules.md terms, macro dossier_rule_columns).

    Incremental like int_reporting__commune_days (macro ledger_changes):
    the dossiers with a valid row arrived since the last run are counted
    negatively in the state this ledger counted for them and positively in
    their current state; the sums are added to the rows they touch. procedure_code '' stands for a
    dossier without one (a key column cannot be null).
-#}
-- depends_on: {{ ref('int_onestop__rows_checked') }}
-- depends_on: {{ ref('int_units__commune_lookup') }}

with

calendar as not materialized (

    select * from {{ ref('int_calendar__days') }}

),

{% if is_incremental() %}

    {{ ledger_changes(['procedure_code', 'procedure_name']) }},

    signed as (

        {{ resolved_for_durations('current_facts', '1') }}
        union all
        {{ resolved_for_durations('counted_facts', '-1') }}

    ),

{% else %}

    facts as (

        select * from {{ ref('int_onestop__dossier_facts') }}

    ),

    signed as (

        {{ resolved_for_durations('facts', '1') }}

    ),

{% endif %}

durations as (

    select
        signed.commune_key,
        coalesce(signed.procedure_code, '') as procedure_code,
        signed.done_date,
        done_day.working_day_index - received_day.working_day_index as processing_working_days,
        due_day.working_day_index - received_day.working_day_index as legal_working_days,
        max(signed.procedure_name) as procedure_name,
        sum(signed.weight)::bigint as resolved
    from signed
    inner join calendar as received_day
        on signed.received_date = received_day.calendar_date
    inner join calendar as done_day
        on signed.done_date = done_day.calendar_date
    left join calendar as due_day
        on signed.due_date = due_day.calendar_date
    group by
        signed.commune_key,
        coalesce(signed.procedure_code, ''),
        signed.done_date,
        done_day.working_day_index - received_day.working_day_index,
        due_day.working_day_index - received_day.working_day_index

),

final as (

    select
        durations.commune_key,
        durations.procedure_code,
        durations.done_date,
        durations.processing_working_days,
        durations.legal_working_days,
        {% if is_incremental() -%}
            coalesce(durations.procedure_name, this_run.procedure_name) as procedure_name,
            coalesce(this_run.resolved, 0) + durations.resolved as resolved,
            (select marks.checked_through from marks) as counted_through
        {%- else -%}
            durations.procedure_name,
            durations.resolved,
            (
                select max(dossiers.last_arrival_at)
                from {{ ref('int_onestop__dossiers_current') }} as dossiers
            ) as counted_through
        {%- endif %}
    from durations
    {% if is_incremental() -%}
        left join {{ this }} as this_run
            on
                durations.commune_key = this_run.commune_key
                and durations.procedure_code = this_run.procedure_code
                and durations.done_date = this_run.done_date
                and durations.processing_working_days = this_run.processing_working_days
                and durations.legal_working_days = this_run.legal_working_days
    {%- endif %}

)

select * from final
