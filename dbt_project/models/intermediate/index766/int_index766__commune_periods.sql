{{ config(pre_hook="{{ unit_sized_settings() }}") }}

{#-
    The counts the 766 index needs per commune (unit version) × period, on
    the grain and spine of int_reporting__commune_periods (every unit valid
    in the period): its 06a measures as they are (the progress indicator
    reuses them, lateness is not judged twice) and the sums of the 766
    ledger counts (macro index766_day_measures) over the days of the period
    up to its cut-off. All of them are flows of the period, so the ledger's
    days are summed per month, then the months of each period: nothing is
    read dossier by dossier.
-#}
with

commune_periods as (

    select * from {{ ref('int_reporting__commune_periods') }}

),

periods as (

    select * from {{ ref('int_reporting__periods') }}

),

commune_days as (

    select * from {{ ref('int_reporting__commune_days') }}

),

monthly as (

    -- nothing after run_date counts in any period
    select
        commune_key,
        {{ index766_measure_list('sum({m})::bigint as {m}') }},
        date_trunc('month', event_date)::date as month_start
    from commune_days
    where event_date <= '{{ run_date() }}'::date
    group by commune_key, date_trunc('month', event_date)

),

period_sums as (

    select
        monthly.commune_key,
        periods.period_type,
        {{ index766_measure_list('sum(monthly.{m})::bigint as {m}') }},
        periods.period_start
    from periods
    inner join monthly
        on monthly.month_start between periods.period_start and periods.cut_off_date
    group by monthly.commune_key, periods.period_type, periods.period_start

),

final as (

    select
        commune_periods.commune_key,
        commune_periods.commune_code,
        commune_periods.commune_name,
        commune_periods.district_code,
        commune_periods.period_type,
        commune_periods.period_start,
        commune_periods.period_end,
        commune_periods.cut_off_date,
        commune_periods.received_total,
        commune_periods.received_online,
        commune_periods.received_direct,
        commune_periods.received_postal,
        commune_periods.resolved_total,
        commune_periods.resolved_early,
        commune_periods.resolved_on_time,
        commune_periods.resolved_late,
        commune_periods.in_progress_total,
        {{ index766_measure_list('coalesce(period_sums.{m}, 0) as {m}') }},
        commune_periods.in_progress_on_time
    from commune_periods
    left join period_sums
        on
            commune_periods.commune_key = period_sums.commune_key
            and commune_periods.period_type = period_sums.period_type
            and commune_periods.period_start = period_sums.period_start

)

select * from final
