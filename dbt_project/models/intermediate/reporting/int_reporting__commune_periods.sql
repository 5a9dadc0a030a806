{#-
    Counts per commune (unit version) × period, with a row for every unit
    valid during the period (zeros where nothing happened) and for every
    unit that had a dossier in it. Feeds commune_lateness and
    commune_contact_completeness; district_lateness sums it.
-#}
with

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

periods as (

    select * from {{ ref('int_reporting__periods') }}

),

dossier_periods as (

    select * from {{ ref('int_reporting__dossier_periods') }}

),

counts as (

    select
        commune_key,
        period_type,
        period_start,
        count(*) filter (where is_received) as received_total,
        count(*) filter (where is_received and channel = 'Trực tuyến') as received_online,
        count(*) filter (where is_received and channel = 'Trực tiếp') as received_direct,
        count(*) filter (
            where is_received and channel = 'Bưu chính công ích'
        ) as received_postal,
        count(*) filter (where is_received and channel is null) as received_unknown_channel,
        count(*) filter (where is_carried_over) as carried_over,
        count(*) filter (where is_resolved) as resolved_total,
        count(*) filter (where resolution_status = 'early') as resolved_early,
        count(*) filter (where resolution_status = 'on_time') as resolved_on_time,
        count(*) filter (where resolution_status = 'late') as resolved_late,
        count(*) filter (where is_in_progress) as in_progress_total,
        count(*) filter (where is_in_progress and not is_in_progress_overdue)
            as in_progress_on_time,
        count(*) filter (where is_in_progress_overdue) as in_progress_overdue,
        count(*) filter (where is_withdrawn_or_refused) as withdrawn_or_refused,
        count(*) filter (where is_late) as late_total,
        count(*) filter (where is_late_without_apology) as late_without_apology,
        count(*) filter (where is_received_outside_one_stop) as received_outside_one_stop,
        count(*) filter (where is_received and address_present) as address_present,
        count(*) filter (where is_received and phone_valid) as phone_valid,
        count(*) filter (where is_received and email_valid) as email_valid,
        count(*) filter (where is_received and contact_complete) as contact_complete
    from dossier_periods
    group by commune_key, period_type, period_start

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

    union

    select
        commune_key,
        period_type,
        period_start
    from counts

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
        coalesce(counts.in_progress_on_time, 0) as in_progress_on_time,
        coalesce(counts.in_progress_overdue, 0) as in_progress_overdue,
        coalesce(counts.withdrawn_or_refused, 0) as withdrawn_or_refused,
        coalesce(counts.late_total, 0) as late_total,
        coalesce(counts.late_without_apology, 0) as late_without_apology,
        coalesce(counts.received_outside_one_stop, 0) as received_outside_one_stop,
        coalesce(counts.address_present, 0) as address_present,
        coalesce(counts.phone_valid, 0) as phone_valid,
        coalesce(counts.email_valid, 0) as email_valid,
        coalesce(counts.contact_complete, 0) as contact_complete
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
