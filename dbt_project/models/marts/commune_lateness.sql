{{
    config(
        indexes=[
            {'columns': ['period_type', 'period_start', 'commune_key'], 'unique': true},
            {'columns': ['commune_code']},
        ]
    )
}}

{#-
    Resolution table per commune (unit version) × period: received, carried
    over, resolved, in progress, late rate and threshold flag.
-#}
with

commune_periods as (

    select * from {{ ref('int_reporting__commune_periods') }}

),

final as (

    select
        commune_key,
        commune_code,
        commune_name,
        district_code,
        period_type,
        period_start,
        period_end,
        cut_off_date,
        received_total,
        received_online,
        received_direct,
        received_postal,
        received_unknown_channel,
        carried_over,
        resolved_total,
        resolved_early,
        resolved_on_time,
        resolved_late,
        in_progress_total,
        in_progress_on_time,
        in_progress_overdue,
        withdrawn_or_refused,
        late_total,
        {{ late_rate('late_total', 'resolved_total', 'in_progress_total') }} as late_rate,
        {{ is_over_threshold(
            late_rate('late_total', 'resolved_total', 'in_progress_total'),
            var('late_threshold_pct')
        ) }} as over_threshold,
        late_without_apology,
        received_outside_one_stop,
        province_code,
        province_name
    from commune_periods

)

select * from final
