{{
    config(
        indexes=[
            {'columns': ['period_type', 'period_start', 'commune_key', 'procedure_code'],
                'unique': true},
            {'columns': ['commune_code']},
        ]
    )
}}

{#-
    How long each procedure really takes per commune (unit version, as
    received) and period: the dossiers resolved in the period (done date
    from period_start to the cut-off), the mean, median and 90th percentile
    of the working days from receipt to result, and the legal time (median
    of the working days from receipt to the promised date). Percentiles are
    discrete (percentile_disc: a number of working days some dossier took).
    From the ledger int_index766__procedure_durations; only procedures with
    a resolved dossier in the period have a row.
-#}
with

durations as (

    select * from {{ ref('int_index766__procedure_durations') }}
    where resolved <> 0 and done_date <= '{{ run_date() }}'::date

),

periods as (

    select * from {{ ref('int_reporting__periods') }}

),

units as (

    select * from {{ ref('dim_commune') }}

),

in_period as (

    select
        durations.commune_key,
        periods.period_type,
        periods.period_start,
        periods.period_end,
        durations.procedure_code,
        durations.procedure_name,
        durations.processing_working_days,
        durations.legal_working_days,
        durations.resolved
    from durations
    inner join periods
        on durations.done_date between periods.period_start and periods.cut_off_date

),

taken as (

    select
        commune_key,
        period_type,
        period_start,
        procedure_code,
        processing_working_days as working_days,
        sum(resolved) as resolved
    from in_period
    group by commune_key, period_type, period_start, procedure_code, processing_working_days

),

legal as (

    select
        commune_key,
        period_type,
        period_start,
        procedure_code,
        legal_working_days as working_days,
        sum(resolved) as resolved
    from in_period
    group by commune_key, period_type, period_start, procedure_code, legal_working_days

),

taken_cumulative as (

    select
        taken.*,
        sum(taken.resolved) over by_days as cumulative,
        sum(taken.resolved) over by_group as total
    from taken
    window
        by_group as (
            partition by
                taken.commune_key,
                taken.period_type,
                taken.period_start,
                taken.procedure_code
        ),
        by_days as (
            partition by
                taken.commune_key,
                taken.period_type,
                taken.period_start,
                taken.procedure_code
            order by taken.working_days
        )

),

legal_cumulative as (

    select
        legal.*,
        sum(legal.resolved) over by_days as cumulative,
        sum(legal.resolved) over by_group as total
    from legal
    window
        by_group as (
            partition by
                legal.commune_key,
                legal.period_type,
                legal.period_start,
                legal.procedure_code
        ),
        by_days as (
            partition by
                legal.commune_key,
                legal.period_type,
                legal.period_start,
                legal.procedure_code
            order by legal.working_days
        )

),

taken_summary as (

    select
        commune_key,
        period_type,
        period_start,
        procedure_code,
        sum(resolved)::bigint as resolved,
        round(sum(working_days * resolved)::numeric / sum(resolved), 2) as mean_working_days,
        {{ histogram_percentile('working_days', 'cumulative', 'total', 0.5) }}
            as median_working_days,
        {{ histogram_percentile('working_days', 'cumulative', 'total', 0.9) }}
            as p90_working_days
    from taken_cumulative
    group by commune_key, period_type, period_start, procedure_code

),

legal_summary as (

    select
        commune_key,
        period_type,
        period_start,
        procedure_code,
        {{ histogram_percentile('working_days', 'cumulative', 'total', 0.5) }}
            as legal_working_days
    from legal_cumulative
    group by commune_key, period_type, period_start, procedure_code

),

names as (

    select
        commune_key,
        period_type,
        period_start,
        procedure_code,
        max(period_end) as period_end,
        max(procedure_name) as procedure_name
    from in_period
    group by commune_key, period_type, period_start, procedure_code

),

final as (

    select
        taken_summary.commune_key,
        units.commune_code,
        units.commune_name,
        units.province_code,
        taken_summary.period_type,
        taken_summary.period_start,
        names.period_end,
        nullif(taken_summary.procedure_code, '') as procedure_code,
        names.procedure_name,
        taken_summary.resolved,
        taken_summary.mean_working_days,
        taken_summary.median_working_days,
        taken_summary.p90_working_days,
        legal_summary.legal_working_days
    from taken_summary
    inner join names
        on
            taken_summary.commune_key = names.commune_key
            and taken_summary.period_type = names.period_type
            and taken_summary.period_start = names.period_start
            and taken_summary.procedure_code = names.procedure_code
    inner join legal_summary
        on
            taken_summary.commune_key = legal_summary.commune_key
            and taken_summary.period_type = legal_summary.period_type
            and taken_summary.period_start = legal_summary.period_start
            and taken_summary.procedure_code = legal_summary.procedure_code
    inner join units
        on taken_summary.commune_key = units.commune_key
    where taken_summary.resolved > 0

)

select * from final
