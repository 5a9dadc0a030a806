{#-
    Counts per commune (unit version) × period, with a row for every unit
    of a province present in the data valid during the period (zeros where
    nothing happened) and for every unit that had a dossier in it. Feeds commune_lateness and
    commune_contact_completeness; district_lateness sums it.

    From the ledger int_reporting__commune_days (RULES.md "Dossier state at
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
-#}
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
        commune_key,
        date_trunc('month', event_date)::date as month_start,
        sum(received_total)::bigint as received_total,
        sum(received_online)::bigint as received_online,
        sum(received_direct)::bigint as received_direct,
        sum(received_postal)::bigint as received_postal,
        sum(received_unknown_channel)::bigint as received_unknown_channel,
        sum(withdrawn_or_refused)::bigint as withdrawn_or_refused,
        sum(received_outside_one_stop)::bigint as received_outside_one_stop,
        sum(address_present)::bigint as address_present,
        sum(phone_valid)::bigint as phone_valid,
        sum(email_valid)::bigint as email_valid,
        sum(contact_complete)::bigint as contact_complete,
        sum(resolved_total)::bigint as resolved_total,
        sum(resolved_early)::bigint as resolved_early,
        sum(resolved_on_time)::bigint as resolved_on_time,
        sum(resolved_late)::bigint as resolved_late,
        sum(resolved_late_without_apology)::bigint as resolved_late_without_apology,
        sum(received_total - withdrawn_or_refused - resolved_total)::bigint as in_progress_change,
        sum(due_passed - due_passed_done)::bigint as overdue_change,
        sum(due_passed_without_apology - due_passed_done_without_apology)::bigint
            as overdue_without_apology_change
    from commune_days
    where event_date <= '{{ run_date() }}'::date
    group by commune_key, date_trunc('month', event_date)

),

communes as (

    select distinct commune_key from monthly

),

provinces as (

    -- the provinces of the data: their units get rows with zeros, not every
    -- unit of the country (MAP.md "Zero rows")
    select distinct units.province_code
    from communes
    inner join units
        on communes.commune_key = units.commune_key

),

accumulated as (

    -- totals from the first month through each month, for every commune with events
    select
        communes.commune_key,
        months.month_start,
        coalesce(sum(monthly.received_total) over by_month, 0)::bigint as received_total,
        coalesce(sum(monthly.received_online) over by_month, 0)::bigint as received_online,
        coalesce(sum(monthly.received_direct) over by_month, 0)::bigint as received_direct,
        coalesce(sum(monthly.received_postal) over by_month, 0)::bigint as received_postal,
        coalesce(sum(monthly.received_unknown_channel) over by_month, 0)::bigint
            as received_unknown_channel,
        coalesce(sum(monthly.withdrawn_or_refused) over by_month, 0)::bigint
            as withdrawn_or_refused,
        coalesce(sum(monthly.received_outside_one_stop) over by_month, 0)::bigint
            as received_outside_one_stop,
        coalesce(sum(monthly.address_present) over by_month, 0)::bigint as address_present,
        coalesce(sum(monthly.phone_valid) over by_month, 0)::bigint as phone_valid,
        coalesce(sum(monthly.email_valid) over by_month, 0)::bigint as email_valid,
        coalesce(sum(monthly.contact_complete) over by_month, 0)::bigint as contact_complete,
        coalesce(sum(monthly.resolved_total) over by_month, 0)::bigint as resolved_total,
        coalesce(sum(monthly.resolved_early) over by_month, 0)::bigint as resolved_early,
        coalesce(sum(monthly.resolved_on_time) over by_month, 0)::bigint as resolved_on_time,
        coalesce(sum(monthly.resolved_late) over by_month, 0)::bigint as resolved_late,
        coalesce(sum(monthly.resolved_late_without_apology) over by_month, 0)::bigint
            as resolved_late_without_apology,
        coalesce(sum(monthly.in_progress_change) over by_month, 0)::bigint as in_progress_change,
        coalesce(sum(monthly.overdue_change) over by_month, 0)::bigint as overdue_change,
        coalesce(sum(monthly.overdue_without_apology_change) over by_month, 0)::bigint
            as overdue_without_apology_change
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

    select
        through_cut_off.commune_key,
        periods.period_type,
        periods.period_start,
        through_cut_off.received_total
        - coalesce(before_start.received_total, 0) as received_total,
        through_cut_off.received_online
        - coalesce(before_start.received_online, 0) as received_online,
        through_cut_off.received_direct
        - coalesce(before_start.received_direct, 0) as received_direct,
        through_cut_off.received_postal
        - coalesce(before_start.received_postal, 0) as received_postal,
        through_cut_off.received_unknown_channel
        - coalesce(before_start.received_unknown_channel, 0) as received_unknown_channel,
        through_cut_off.withdrawn_or_refused
        - coalesce(before_start.withdrawn_or_refused, 0) as withdrawn_or_refused,
        through_cut_off.received_outside_one_stop
        - coalesce(before_start.received_outside_one_stop, 0) as received_outside_one_stop,
        through_cut_off.address_present
        - coalesce(before_start.address_present, 0) as address_present,
        through_cut_off.phone_valid
        - coalesce(before_start.phone_valid, 0) as phone_valid,
        through_cut_off.email_valid
        - coalesce(before_start.email_valid, 0) as email_valid,
        through_cut_off.contact_complete
        - coalesce(before_start.contact_complete, 0) as contact_complete,
        through_cut_off.resolved_total
        - coalesce(before_start.resolved_total, 0) as resolved_total,
        through_cut_off.resolved_early
        - coalesce(before_start.resolved_early, 0) as resolved_early,
        through_cut_off.resolved_on_time
        - coalesce(before_start.resolved_on_time, 0) as resolved_on_time,
        through_cut_off.resolved_late
        - coalesce(before_start.resolved_late, 0) as resolved_late,
        through_cut_off.resolved_late_without_apology
        - coalesce(before_start.resolved_late_without_apology, 0) as resolved_late_without_apology,
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
        coalesce(counts.received_total, 0) as received_total,
        coalesce(counts.received_online, 0) as received_online,
        coalesce(counts.received_direct, 0) as received_direct,
        coalesce(counts.received_postal, 0) as received_postal,
        coalesce(counts.received_unknown_channel, 0) as received_unknown_channel,
        coalesce(counts.carried_over, 0) as carried_over,
        coalesce(counts.resolved_total, 0) as resolved_total,
        coalesce(counts.resolved_early, 0) as resolved_early,
        coalesce(counts.resolved_on_time, 0) as resolved_on_time,
        coalesce(counts.resolved_late, 0) as resolved_late,
        coalesce(counts.in_progress_total, 0) as in_progress_total,
        coalesce(counts.in_progress_total - counts.in_progress_overdue, 0) as in_progress_on_time,
        coalesce(counts.in_progress_overdue, 0) as in_progress_overdue,
        coalesce(counts.withdrawn_or_refused, 0) as withdrawn_or_refused,
        coalesce(counts.resolved_late + counts.in_progress_overdue, 0) as late_total,
        coalesce(
            counts.resolved_late_without_apology + counts.in_progress_overdue_without_apology, 0
        ) as late_without_apology,
        coalesce(counts.received_outside_one_stop, 0) as received_outside_one_stop,
        coalesce(counts.address_present, 0) as address_present,
        coalesce(counts.phone_valid, 0) as phone_valid,
        coalesce(counts.email_valid, 0) as email_valid,
        coalesce(counts.contact_complete, 0) as contact_complete,
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
