{{
    config(
        materialized='incremental',
        unlogged=true,
        unique_key=['commune_key', 'event_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['commune_key', 'event_date'], 'unique': true},
        ],
        pre_hook="{{ no_jit_when_incremental() }}",
    )
}}

{#-
    The ledger behind the period marts: per commune (unit version) and day,
    how many dossiers, in their current state, were received, resolved
    (early / on time / late), passed their due date, ... that day (macro
    dossier_events). Every figure of a period is a sum of these counts: over
    the days of the period (received, resolved) or over all days up to a
    cut-off (in progress, overdue), see int_reporting__commune_periods. It
    does not depend on run_date.

    Incremental: only the dossiers with a valid row arrived since the last
    run (counted_through) change it. Their state as this ledger counted it
    (the state their rows arrived by then give, same ordering as
    int_onestop__dossiers_current) is counted negatively and their current
    state positively, and the sums are added to the days they touch (macro
    ledger_changes, shared with int_index766__procedure_durations). The
    cost follows the night's delta, not the history. A run after a failed
    night picks up where the last good one stopped.
-#}
-- depends_on: {{ ref('int_onestop__rows_checked') }}
-- depends_on: {{ ref('int_units__commune_lookup') }}

with

{% if is_incremental() %}

    {{ ledger_changes([
        'dossier_code', 'channel', 'address_present', 'phone_valid', 'email_valid', 'e_result',
        'digitised', 'has_fee', 'paid_online', 'rated_dissatisfied',
    ]) }},

    events as (

        {{ dossier_events('current_facts', '1') }}
        union all
        {{ dossier_events('counted_facts', '-1') }}

    ),

    changes as (

        {{ commune_day_counts('events') }}

    ),

    final as (

        select
            changes.commune_key,
            changes.event_date,
            {%- for column in commune_day_measures() %}
            coalesce(this_run.{{ column }}, 0) + changes.{{ column }} as {{ column }},
            {%- endfor %}
            (select marks.checked_through from marks) as counted_through
        from changes
        left join {{ this }} as this_run
            on
                changes.commune_key = this_run.commune_key
                and changes.event_date = this_run.event_date

    )

{% else %}

    facts as (

        select * from {{ ref('int_onestop__dossier_facts') }}

    ),

    events as (

        {{ dossier_events('facts') }}

    ),

    counts as (

        {{ commune_day_counts('events') }}

    ),

    final as (

        select
            counts.*,
            (
                select max(dossiers.last_arrival_at)
                from {{ ref('int_onestop__dossiers_current') }} as dossiers
            ) as counted_through
        from counts

    )

{% endif %}

select * from final
