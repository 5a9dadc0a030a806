{{
    config(
        pre_hook="{{ unit_sized_settings() }}",
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

    -- nothing after run_date counts in any period
    select * from {{ ref('int_index766__procedure_durations') }}
    where resolved <> 0 and done_date <= '{{ run_date() }}'::date

),

periods as (

    select * from {{ ref('int_reporting__periods') }}

),

units as (

    select * from {{ ref('dim_commune') }}

),

monthly as (

    -- the ledger's days summed per month first: a period is whole months
    -- up to its cut-off (period_end, or run_date, past which nothing is
    -- left), so each ledger row meets its periods once per month, not per
    -- day. Two histograms per procedure: working days taken and legal
    -- working days (kind).
    select
        commune_key,
        procedure_code,
        date_trunc('month', done_date)::date as month_start,
        'taken' as kind,
        processing_working_days as working_days,
        max(procedure_name) as procedure_name,
        sum(resolved) as resolved
    from durations
    group by commune_key, procedure_code, date_trunc('month', done_date), processing_working_days

    union all

    select
        commune_key,
        procedure_code,
        date_trunc('month', done_date)::date as month_start,
        'legal' as kind,
        legal_working_days as working_days,
        max(procedure_name) as procedure_name,
        sum(resolved) as resolved
    from durations
    group by commune_key, procedure_code, date_trunc('month', done_date), legal_working_days

),

histograms as (

    select
        monthly.commune_key,
        periods.period_type,
        periods.period_start,
        periods.period_end,
        monthly.procedure_code,
        monthly.kind,
        monthly.working_days,
        max(monthly.procedure_name) as procedure_name,
        sum(monthly.resolved) as resolved
    from monthly
    inner join periods
        on monthly.month_start between periods.period_start and periods.cut_off_date
    group by
        monthly.commune_key,
        periods.period_type,
        periods.period_start,
        periods.period_end,
        monthly.procedure_code,
        monthly.kind,
        monthly.working_days

),

cumulative as (

    select
        histograms.*,
        sum(histograms.resolved) over by_days as cumulative,
        sum(histograms.resolved) over by_group as total
    from histograms
    window
        by_group as (
            partition by
                histograms.commune_key,
                histograms.period_type,
                histograms.period_start,
                histograms.procedure_code,
                histograms.kind
        ),
        by_days as (
            partition by
                histograms.commune_key,
                histograms.period_type,
                histograms.period_start,
                histograms.procedure_code,
                histograms.kind
            order by histograms.working_days
        )

),

summary as (

    -- one pass per commune × period × procedure, both histograms at once:
    -- no join between summaries the planner could not size
    select
        commune_key,
        period_type,
        period_start,
        procedure_code,
        max(period_end) as period_end,
        max(procedure_name) as procedure_name,
        sum(resolved) filter (where kind = 'taken')::bigint as resolved,
        round(
            sum(working_days * resolved) filter (where kind = 'taken')::numeric
            / sum(resolved) filter (where kind = 'taken'),
            2
        ) as mean_working_days,
        {{ histogram_percentile('working_days', 'cumulative', 'total', 0.5, "kind = 'taken'") }}
            as median_working_days,
        {{ histogram_percentile('working_days', 'cumulative', 'total', 0.9, "kind = 'taken'") }}
            as p90_working_days,
        {{ histogram_percentile('working_days', 'cumulative', 'total', 0.5, "kind = 'legal'") }}
            as legal_working_days
    from cumulative
    group by commune_key, period_type, period_start, procedure_code

),

final as (

    select
        summary.commune_key,
        units.commune_code,
        units.commune_name,
        units.province_code,
        summary.period_type,
        summary.period_start,
        summary.period_end,
        nullif(summary.procedure_code, '') as procedure_code,
        summary.procedure_name,
        summary.resolved,
        summary.mean_working_days,
        summary.median_working_days,
        summary.p90_working_days,
        summary.legal_working_days
    from summary
    inner join units
        on summary.commune_key = units.commune_key
    where summary.resolved > 0

)

select * from final
