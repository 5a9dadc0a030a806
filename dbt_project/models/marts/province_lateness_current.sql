{{
    config(
        indexes=[
            {'columns': ['period_type', 'period_start', 'province_code'], 'unique': true},
        ]
    )
}}

{#-
    Resolution table per province × period for today's units: the measures
    of commune_lateness_current (units valid on the run date, their
    predecessors' dossiers included) summed over the province, late_rate
    recomputed from the sums, and the number of today's communes over the
    threshold (macro lateness_rollup). The reports' "today's units" totals.
-#}

{{ lateness_rollup(ref('commune_lateness_current'), 'province', province_names()) }}
