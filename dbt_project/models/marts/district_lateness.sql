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
    (not averaged) and the number of communes over the threshold (macro
    lateness_rollup). Districts were abolished on 1/7/2025: only the periods
    that end by then (macro district_level_last_day) have rows.
-#}

{{ lateness_rollup(
    ref('commune_lateness'), 'district', district_names(),
    where='period_end <= ' ~ district_level_last_day()
) }}
