{#- no JIT: the estimates of the month series and windows below run to
    millions of rows for what are thousands, and PostgreSQL (a build with JIT)
    compiled the query's ~150 functions with inlining every night: on
    PostgreSQL 15 at 1M dossiers, 5.2-6.4 s with JIT, 0.15-0.23 s without
    (macro unit_sized_settings) -#}
{{ config(pre_hook="{{ unit_sized_settings() }}") }}

{#-
    Counts per commune (unit version) × period, with a row for every unit
    of a province present in the data valid during the period (zeros where
    nothing happened) and for every unit that had a dossier in it. Feeds commune_lateness and
    commune_contact_completeness; district_lateness sums it.

    From the ledger int_reporting__commune_days (docs/rules.md "Dossier state at
    the end of a period"), with cut-off = period_end, or run_date for the
    period that contains it:
    - received (by channel, withdrawn or refused, outside the desk, contact
      fields) and resolved (early / on time / late, late without apology):
      the counts of the days from period_start to the cut-off;
    - in progress at the cut-off: received minus withdrawn minus resolved,
      over every day up to the cut-off (a dossier is done after it was
      received); carried over: the same up to the day before period_start;
    - overdue at the cut-off (in progress and due < cut-off): dossiers whose
      due date has passed minus those of them done by the cut-off
      (due_passed - due_passed_done), over every day up to the cut-off.
    Every period is a run of whole months, cut at run_date in the last one,
    so the days are first summed per month, then accumulated.

    The measures are listed once, below: `flows` are counted over the
    period's days, `stocks` are running balances read at the cut-off (their
    monthly change is the expression given).
-#}
{%- set flows = [
    'received_total', 'received_online', 'received_direct', 'received_postal',
    'received_unknown_channel', 'withdrawn_or_refused', 'received_outside_one_stop',
    'address_present', 'phone_valid', 'email_valid', 'contact_complete',
    'resolved_total', 'resolved_early', 'resolved_on_time', 'resolved_late',
    'resolved_late_without_apology',
] -%}
{%- set stocks = {
    'in_progress_change': 'received_total - withdrawn_or_refused - resolved_total',
    'overdue_change': 'due_passed - due_passed_done',
    'overdue_without_apology_change':
        'due_passed_without_apology - due_passed_done_without_apology',
} -%}
with

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

periods as (

    select * from {{ ref('int_reporting__periods') }}

),

commune_days as (

    select * from {{ ref('int_reporting__commune_days') }}

),

months as (

    -- every month of the periods
    select
        generate_series(
            date_trunc('month', min(period_start)),
            date_trunc('month', max(cut_off_date)),
            interval '1 month'
        )::date as month_start
    from periods

),

monthly as (

    -- nothing after run_date counts in any period
    select
        {%- for measure in flows %}
            sum({{ measure }})::bigint as {{ measure }},
        {%- endfor %}
        {%- for measure, change in stocks.items() %}
            sum({{ change }})::bigint as {{ measure }},
        {%- endfor %}
        commune_key,
        date_trunc('month', event_date)::date as month_start
    from commune_days
    where event_date <= '{{ run_date() }}'::date
    group by commune_key, date_trunc('month', event_date)

),

communes as (

    select distinct commune_key from monthly

),

provinces as (

    -- the provinces of the data: their units get rows with zeros, not every
    -- unit of the country (docs/map.md "Which rows appear")
    select distinct units.province_code
    from communes
    inner join units
        on communes.commune_key = units.commune_key

),

accumulated as (

    -- totals from the first month through each month, for every commune with events
    select
        {%- for measure in flows + stocks.keys() | list %}
            coalesce(sum(monthly.{{ measure }}) over by_month, 0)::bigint as {{ measure }},
        {%- endfor %}
        communes.commune_key,
        months.month_start
    from communes
    cross join months
    left join monthly
        on
            communes.commune_key = monthly.commune_key
            and months.month_start = monthly.month_start
    window by_month as (
        partition by communes.commune_key
        order by months.month_start
        rows between unbounded preceding and current row
    )

),

counts as (

    -- flows: through the cut-off minus before the start; stocks: at the cut-off
    select
        through_cut_off.commune_key,
        periods.period_type,
        periods.period_start,
        {%- for measure in flows %}
            through_cut_off.{{ measure }}
            - coalesce(before_start.{{ measure }}, 0) as {{ measure }},
        {%- endfor %}
        coalesce(before_start.in_progress_change, 0) as carried_over,
        through_cut_off.in_progress_change as in_progress_total,
        through_cut_off.overdue_change as in_progress_overdue,
        through_cut_off.overdue_without_apology_change as in_progress_overdue_without_apology
    from periods
    inner join accumulated as through_cut_off
        on date_trunc('month', periods.cut_off_date)::date = through_cut_off.month_start
    left join accumulated as before_start
        on
            through_cut_off.commune_key = before_start.commune_key
            and (periods.period_start - interval '1 month')::date = before_start.month_start

),

spine as (

    select
        units.commune_key,
        periods.period_type,
        periods.period_start
    from units
    inner join periods
        on
            units.valid_from <= periods.cut_off_date
            and coalesce(units.valid_to, 'infinity'::date) >= periods.period_start
    where units.province_code in (select provinces.province_code from provinces)

    union

    -- units with a dossier in the period: received in it, or carried over into it
    select
        commune_key,
        period_type,
        period_start
    from counts
    where received_total > 0 or carried_over > 0

),

final as (

    select
        units.commune_key,
        units.commune_code,
        units.commune_name,
        units.district_code,
        units.district_name,
        periods.period_type,
        periods.period_start,
        periods.period_end,
        periods.cut_off_date,
        {%- for measure in flows %}
            coalesce(counts.{{ measure }}, 0) as {{ measure }},
        {%- endfor %}
        coalesce(counts.carried_over, 0) as carried_over,
        coalesce(counts.in_progress_total, 0) as in_progress_total,
        coalesce(counts.in_progress_total - counts.in_progress_overdue, 0) as in_progress_on_time,
        coalesce(counts.in_progress_overdue, 0) as in_progress_overdue,
        coalesce(counts.resolved_late + counts.in_progress_overdue, 0) as late_total,
        coalesce(
            counts.resolved_late_without_apology + counts.in_progress_overdue_without_apology, 0
        ) as late_without_apology,
        units.province_code,
        units.province_name
    from spine
    inner join units
        on spine.commune_key = units.commune_key
    inner join periods
        on
            spine.period_type = periods.period_type
            and spine.period_start = periods.period_start
    left join counts
        on
            spine.commune_key = counts.commune_key
            and spine.period_type = counts.period_type
            and spine.period_start = counts.period_start

)

select * from final
