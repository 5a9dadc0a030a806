{{
    config(
        pre_hook="{{ unit_sized_settings() }}",
        indexes=[
            {'columns': ['period_type', 'period_start', 'commune_key'], 'unique': true},
            {'columns': ['commune_code']},
        ]
    )
}}

{#-
    "Today's units" (docs/map.md): the resolution table of commune_lateness
    attributed to the unit each unit version belongs to on the run date
    (int_units__current_unit: the default successor of a divided unit), so
    that a commune of 2026 sees a history that includes its predecessors'
    dossiers. Every measure is a count and is summed; late_rate and
    over_threshold are recomputed from the sums. Every unit valid on the run
    date in a province present in the data gets a row in every period.
-#}
{%- set measures = lateness_summed_measures()
    + ['late_without_apology', 'received_outside_one_stop'] %}
with

commune_lateness as (

    select * from {{ ref('commune_lateness') }}

),

current_unit as (

    select * from {{ ref('int_units__current_unit') }}

),

units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

periods as (

    select * from {{ ref('int_reporting__periods') }}

),

attributed as (

    select
        commune_lateness.period_type,
        commune_lateness.period_start,
        {%- for column in measures %}
            commune_lateness.{{ column }},
        {%- endfor %}
        current_unit.run_date_commune_key as commune_key
    from commune_lateness
    inner join current_unit
        on commune_lateness.commune_key = current_unit.commune_key

),

provinces as (

    -- the provinces, as they are on the run date, of the units in the data
    select distinct units.province_code
    from (select distinct attributed.commune_key from attributed) as reached
    inner join units
        on reached.commune_key = units.commune_key

),

today_units as (

    select units.*
    from units
    where
        units.valid_from <= '{{ run_date() }}'::date
        and coalesce(units.valid_to, 'infinity'::date) >= '{{ run_date() }}'::date
        and units.province_code in (select provinces.province_code from provinces)

),

summed as (

    select
        commune_key,
        period_type,
        period_start,
        {%- for column in measures %}
            sum({{ column }})::bigint as {{ column }},
        {%- endfor %}
        count(*) as unit_versions
    from attributed
    group by commune_key, period_type, period_start

),

filled as (

    select
        today_units.commune_key,
        today_units.commune_code,
        today_units.commune_name,
        today_units.district_code,
        periods.period_type,
        periods.period_start,
        periods.period_end,
        periods.cut_off_date,
        {%- for column in measures %}
            coalesce(summed.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        today_units.province_code,
        today_units.province_name
    from today_units
    cross join periods
    left join summed
        on
            today_units.commune_key = summed.commune_key
            and periods.period_type = summed.period_type
            and periods.period_start = summed.period_start

),

final as (

    -- columns in the contract's order (commune_lateness's) by name
    select
        filled.*,
        {{ late_rate('late_total', 'resolved_total', 'in_progress_total') }} as late_rate,
        {{ is_over_threshold(
            late_rate('late_total', 'resolved_total', 'in_progress_total'),
            var('late_threshold_pct')
        ) }} as over_threshold
    from filled

)

select * from final
