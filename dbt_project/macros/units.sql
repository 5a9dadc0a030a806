{#- The administrative map's rules (docs/map.md); each is written only here. -#}

{#-
    Last day of the district level: districts were abolished on 1/7/2025.
    District rollups cover only the periods (survey years) that end on or
    before it; after it, district_code is null.
-#}
{% macro district_level_last_day() -%}
    '2025-06-30'::date
{%- endmacro %}

{#- The lateness measures that a rollup sums over communes, in mart column order. -#}
{% macro lateness_summed_measures() -%}
    {{ return([
        'received_total', 'received_online', 'received_direct', 'received_postal',
        'received_unknown_channel', 'carried_over', 'resolved_total', 'resolved_early',
        'resolved_on_time', 'resolved_late', 'in_progress_total', 'in_progress_on_time',
        'in_progress_overdue', 'withdrawn_or_refused', 'late_total',
    ]) }}
{%- endmacro %}

{#-
    Lateness of a level (district, province) × period: the commune rows of
    `relation` summed, late_rate recomputed from the sums (not averaged), the
    number of communes and of communes over the threshold. `names` is a
    relation with one name per code (<level>_code, <level>_name); `where`
    restricts the commune rows.
-#}
{% macro lateness_rollup(relation, level, names, where='true') -%}
    {%- set key = level ~ '_code' -%}
    with

    commune_rows as (

        select * from {{ relation }}
        where {{ key }} is not null and ({{ where }})

    ),

    summed as (

        select
            {{ key }},
            period_type,
            period_start,
            period_end,
            cut_off_date,
            count(*) as communes,
            {%- for column in lateness_summed_measures() %}
            sum({{ column }}) as {{ column }},
            {%- endfor %}
            sum(late_without_apology) as late_without_apology,
            sum(received_outside_one_stop) as received_outside_one_stop,
            count(*) filter (where over_threshold) as communes_over_threshold
        from commune_rows
        group by {{ key }}, period_type, period_start, period_end, cut_off_date

    ),

    final as (

        select
            summed.{{ key }},
            level_names.{{ level }}_name,
            summed.period_type,
            summed.period_start,
            summed.period_end,
            summed.cut_off_date,
            summed.communes,
            {%- for column in lateness_summed_measures() %}
            summed.{{ column }}::bigint as {{ column }},
            {%- endfor %}
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
        inner join {{ names }} as level_names
            on summed.{{ key }} = level_names.{{ key }}

    )

    select * from final
{%- endmacro %}

{#-
    Satisfaction of a level (district, province) × survey year × service:
    the pooled row that int_reporting__satisfaction_scored computed for the
    level (grain = level), with how many of its communes fall below the
    target and how many got each rating band. `names` is a relation with one
    name per code (<level>_code, <level>_name).
-#}
{% macro satisfaction_rollup(level, names) -%}
    {%- set key = level ~ '_code' -%}
    with

    scored as (

        select * from {{ ref('int_reporting__satisfaction_scored') }}

    ),

    commune_rows as (

        select * from scored
        where grain = 'commune'

    ),

    commune_summary as (

        select
            {{ key }},
            survey_year,
            agency_type,
            count(*) filter (where meets_target is false) as communes_below_target,
            count(*) filter (where satisfaction_index is not null) as communes_rated
        from commune_rows
        group by {{ key }}, survey_year, agency_type

    ),

    rating_counts as (

        select
            {{ key }},
            survey_year,
            agency_type,
            rating,
            count(*) as communes
        from commune_rows
        where rating is not null
        group by {{ key }}, survey_year, agency_type, rating

    ),

    ratings as (

        select
            {{ key }},
            survey_year,
            agency_type,
            jsonb_object_agg(rating, communes) as communes_by_rating
        from rating_counts
        group by {{ key }}, survey_year, agency_type

    ),

    final as (

        select
            scored.{{ key }},
            level_names.{{ level }}_name,
            scored.survey_year,
            scored.agency_type,
            scored.responses,
            scored.idx_access,
            scored.idx_procedure,
            scored.idx_staff,
            scored.idx_result,
            scored.idx_feedback,
            scored.satisfaction_index,
            scored.rating,
            scored.target,
            scored.meets_target,
            scored.reliable,
            commune_summary.communes_below_target,
            commune_summary.communes_rated,
            coalesce(ratings.communes_by_rating, '{}'::jsonb) as communes_by_rating
        from scored
        inner join {{ names }} as level_names
            on scored.{{ key }} = level_names.{{ key }}
        inner join commune_summary
            on
                scored.{{ key }} = commune_summary.{{ key }}
                and scored.survey_year = commune_summary.survey_year
                and scored.agency_type = commune_summary.agency_type
        left join ratings
            on
                scored.{{ key }} = ratings.{{ key }}
                and scored.survey_year = ratings.survey_year
                and scored.agency_type = ratings.agency_type
        where scored.grain = '{{ level }}'

    )

    select * from final
{%- endmacro %}

{#- One name per district code (its latest), for the district rollups. -#}
{% macro district_names() -%}
    (
        select distinct on (units.district_code)
            units.district_code,
            units.district_name
        from {{ ref('stg_reference__admin_units') }} as units
        where units.district_code is not null
        order by units.district_code asc, units.valid_from desc
    )
{%- endmacro %}

{#- One name per province code (its latest), for the province rollups. -#}
{% macro province_names() -%}
    (
        select distinct on (units.province_code)
            units.province_code,
            units.province_name
        from {{ ref('stg_reference__admin_units') }} as units
        order by units.province_code asc, units.valid_from desc
    )
{%- endmacro %}
