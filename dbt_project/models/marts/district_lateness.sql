{{
    config(
        indexes=[
            {'columns': ['period_type', 'period_start', 'district_code'], 'unique': true},
        ]
    )
}}

{#-
    Resolution table per district (town) × period: the commune measures
    summed over the district's communes, late_rate recomputed from the sums
    (not averaged) and the number of communes over the threshold. Units of
    the 2025 reform have no district and are not in this table.
-#}
with

commune_lateness as (

    select * from {{ ref('commune_lateness') }}

),

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

district_names as (

    select distinct on (district_code)
        district_code,
        district_name
    from units
    where district_code is not null
    order by district_code asc, valid_from desc

),

summed as (

    select
        district_code,
        period_type,
        period_start,
        period_end,
        cut_off_date,
        count(*) as communes,
        sum(received_total) as received_total,
        sum(received_online) as received_online,
        sum(received_direct) as received_direct,
        sum(received_postal) as received_postal,
        sum(received_unknown_channel) as received_unknown_channel,
        sum(carried_over) as carried_over,
        sum(resolved_total) as resolved_total,
        sum(resolved_early) as resolved_early,
        sum(resolved_on_time) as resolved_on_time,
        sum(resolved_late) as resolved_late,
        sum(in_progress_total) as in_progress_total,
        sum(in_progress_on_time) as in_progress_on_time,
        sum(in_progress_overdue) as in_progress_overdue,
        sum(withdrawn_or_refused) as withdrawn_or_refused,
        sum(late_total) as late_total,
        sum(late_without_apology) as late_without_apology,
        sum(received_outside_one_stop) as received_outside_one_stop,
        count(*) filter (where over_threshold) as communes_over_threshold
    from commune_lateness
    where district_code is not null
    group by district_code, period_type, period_start, period_end, cut_off_date

),

final as (

    select
        summed.district_code,
        district_names.district_name,
        summed.period_type,
        summed.period_start,
        summed.period_end,
        summed.cut_off_date,
        summed.communes,
        summed.received_total::bigint as received_total,
        summed.received_online::bigint as received_online,
        summed.received_direct::bigint as received_direct,
        summed.received_postal::bigint as received_postal,
        summed.received_unknown_channel::bigint as received_unknown_channel,
        summed.carried_over::bigint as carried_over,
        summed.resolved_total::bigint as resolved_total,
        summed.resolved_early::bigint as resolved_early,
        summed.resolved_on_time::bigint as resolved_on_time,
        summed.resolved_late::bigint as resolved_late,
        summed.in_progress_total::bigint as in_progress_total,
        summed.in_progress_on_time::bigint as in_progress_on_time,
        summed.in_progress_overdue::bigint as in_progress_overdue,
        summed.withdrawn_or_refused::bigint as withdrawn_or_refused,
        summed.late_total::bigint as late_total,
        {{ late_rate('summed.late_total', 'summed.resolved_total', 'summed.in_progress_total') }}
            as late_rate,
        {{ is_over_threshold(
            late_rate('summed.late_total', 'summed.resolved_total', 'summed.in_progress_total'),
            var('late_threshold_pct')
        ) }} as over_threshold,
        summed.late_without_apology::bigint as late_without_apology,
        summed.received_outside_one_stop::bigint as received_outside_one_stop,
        summed.communes_over_threshold
    from summed
    inner join district_names
        on summed.district_code = district_names.district_code

)

select * from final
