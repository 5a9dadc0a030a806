{#-
    Reporting periods of every type (month, quarter, half_year, year) from
    the one containing the first received date in the data through the one
    containing run_date. Only valid dossiers reach the ledger: a received
    date before the unit reference knows the unit, or after the day its
    file was loaded, is quarantined (int_onestop__rows_checked), so a typo
    like 1985 cannot stretch the grid back to it. period_end is the real
    end of the period; the cut-off is run_date for the period that contains
    it.
-#}
with

commune_days as (

    select * from {{ ref('int_reporting__commune_days') }}

),

period_types as (

    select *
    from (
        values
        ('month', interval '1 month'),
        ('quarter', interval '3 months'),
        ('half_year', interval '6 months'),
        ('year', interval '1 year')
    ) as period_type_values (period_type, period_length)

),

bounds as (

    select
        '{{ run_date() }}'::date as run_date,
        -- least() ignores nulls: without dossiers the first day is run_date
        least(
            min(event_date) filter (where received_total > 0), '{{ run_date() }}'::date
        ) as first_day
    from commune_days

),

periods as (

    select
        period_types.period_type,
        generate_series(
            {{ period_start_of('period_types.period_type', 'bounds.first_day') }},
            {{ period_start_of('period_types.period_type', 'bounds.run_date') }},
            period_types.period_length
        )::date as period_start,
        period_types.period_length,
        bounds.run_date
    from period_types
    cross join bounds

),

final as (

    select
        period_type,
        period_start,
        (period_start + period_length - interval '1 day')::date as period_end,
        least((period_start + period_length - interval '1 day')::date, run_date) as cut_off_date,
        run_date between period_start and (period_start + period_length - interval '1 day')::date
            as is_current_period
    from periods

)

select * from final
