{{
    config(
        indexes=[
            {'columns': ['period_type', 'period_start', 'province_code'], 'unique': true},
        ]
    )
}}

{#-
    Resolution table per province × period, as received: the measures of
    commune_lateness summed over the units of the province as it was in the
    period, late_rate recomputed from the sums (not averaged), and the
    number of communes over the threshold (macro lateness_rollup).
-#}

{{ lateness_rollup(ref('commune_lateness'), 'province', province_names()) }}
