{{
    config(
        materialized='incremental',
        unique_key='dossier_code',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['dossier_code'], 'unique': true},
            {'columns': ['commune_key']},
            {'columns': ['received_date']},
            {'columns': ['is_settled', 'done_date']},
            {'columns': ['last_arrival_at']},
            {'columns': ['as_of_date']},
        ],
        pre_hook="{{ no_jit_when_incremental() }}",
        post_hook="{{ analyze_if_new() }}",
        meta={'rebuilt_after_crash': true},
    )
}}

{#-
    One row per dossier in its current (latest) state, without personal
    data: codes, dates, status, channel, the per-dossier flags of the rules
    and the state as of run_date (open, overdue, working days late).

    Incremental: a run recomputes the dossiers that changed (a valid row
    arrived since the last run, or int_onestop__dossiers_current recomputed
    them in this run) and those whose run-date columns are not settled, for
    this run_date or for the one they were computed for. A dossier is
    settled once withdrawn / refused or done on or before the run date: from
    then on its columns no longer depend on the run date. Each of the four
    sets is read through an index. After editing the calendar or
    unit seeds, run with --full-refresh. After a crash of the server (its
    build record gone, macros/intermediates.sql) it is rebuilt whole.
-#}
-- depends_on: {{ ref('int_onestop__dossiers_current') }}

with

dossiers as (

    select * from {{ ref('int_onestop__dossier_facts') }}
    {% if is_incremental() %}
        where dossier_code = any(array(
            -- a valid row arrived since the last run (up to the latest: a
            -- range, which the planner counts as 0.5 % of the table, not a
            -- third, and reads through the index)
            select changed.dossier_code
            from {{ ref('int_onestop__dossiers_current') }} as changed
            where
                changed.last_arrival_at > (
                    select coalesce(max(this_run.last_arrival_at), '-infinity')
                    from {{ this }} as this_run
                )
                and changed.last_arrival_at <= (
                    select max(latest.last_arrival_at)
                    from {{ ref('int_onestop__dossiers_current') }} as latest
                )
            union
            -- (re)computed by this run's int_onestop__dossiers_current: the
            -- same dossiers on a night, all of them when a crash had emptied
            -- it (an unlogged table) and it was rebuilt, their arrivals then
            -- back at their files' load times (a row that a new unit made
            -- valid loses its later arrival): through its index
            select recomputed.dossier_code
            from {{ ref('int_onestop__dossiers_current') }} as recomputed
            where recomputed.computed_for_run_date = '{{ run_date() }}'::date
            union
            -- not settled at the date the row was computed for
            select this_run.dossier_code from {{ this }} as this_run
            where not this_run.is_settled
            union
            -- nor at this run_date (when it is earlier)
            select this_run.dossier_code from {{ this }} as this_run
            where
                this_run.done_date > '{{ run_date() }}'::date
                and not this_run.is_withdrawn_or_refused
        ))
    {% endif %}

),

units as (

    -- the dimension table, keyed by commune_key, rather than the staging view,
    -- which computes the key: joined to a few rows, the view was re-read and
    -- its key recomputed for every pair
    select * from {{ ref('dim_commune') }}

),

-- inlined at each use (not materialized), so that indexes, join removal and
-- parallel plans stay available
calendar as not materialized (

    select * from {{ ref('int_calendar__days') }}

),

as_of as (

    select
        dossiers.*,
        '{{ run_date() }}'::date as as_of_date,
        not dossiers.is_withdrawn_or_refused
        and {{ is_in_progress_at(
            'dossiers.received_date', 'dossiers.done_date', "'" ~ run_date() ~ "'::date"
        ) }} as is_open_at_run_date
    from dossiers

),

overdue as (

    select
        *,
        is_open_at_run_date
        and {{ is_overdue_at('due_date', 'as_of_date') }} as is_overdue_at_run_date
    from as_of

),

judged as (

    select
        overdue.*,
        overdue.is_overdue_at_run_date
        or coalesce(
            overdue.resolution_status = 'late'
            and not overdue.is_withdrawn_or_refused
            and overdue.done_date <= overdue.as_of_date,
            false
        ) as is_late_at_run_date,
        case
            when overdue.is_overdue_at_run_date
                then run_day.working_day_index - due_day.working_day_index
            when overdue.is_open_at_run_date then 0
            when not overdue.is_withdrawn_or_refused and overdue.done_date <= overdue.as_of_date
                then overdue.working_days_late_at_done
        end as working_days_late,
        case
            when overdue.is_open_at_run_date and not overdue.is_overdue_at_run_date
                then due_day.working_day_index - run_day.working_day_index
        end as working_days_to_due
    from overdue
    left join calendar as due_day
        on overdue.due_date = due_day.calendar_date
    -- run_date's day, looked up once (a join on the constant made a nested loop)
    cross join (
        select max(calendar.working_day_index) as working_day_index
        from calendar
        where calendar.calendar_date = '{{ run_date() }}'::date
    ) as run_day

),

final as (

    select
        judged.dossier_code,
        judged.commune_key,
        judged.commune_code,
        units.district_code,
        judged.procedure_code,
        judged.procedure_name,
        judged.sector,
        judged.channel,
        judged.reception_place,
        judged.status,
        judged.received_at,
        judged.received_date,
        judged.due_date,
        judged.result_date,
        judged.returned_date,
        judged.done_date,
        judged.apology_date,
        judged.apology_due_date,
        judged.updated_at,
        judged.is_withdrawn_or_refused,
        judged.resolution_status,
        judged.working_days_late_at_done,
        judged.has_compliant_apology,
        judged.is_received_outside_one_stop,
        judged.address_present,
        judged.phone_valid,
        judged.email_valid,
        judged.contact_complete,
        judged.as_of_date,
        judged.is_open_at_run_date,
        judged.is_overdue_at_run_date,
        judged.is_late_at_run_date,
        judged.is_late_at_run_date and not judged.has_compliant_apology
            as is_late_without_apology_at_run_date,
        judged.working_days_late,
        judged.working_days_to_due,
        judged.is_withdrawn_or_refused
        or coalesce(judged.done_date <= judged.as_of_date, false) as is_settled,
        judged.source_file_name,
        judged.source_row_number,
        judged.last_batch_id,
        judged.last_arrival_at
    from judged
    left join units
        on judged.commune_key = units.commune_key

)

select * from final
