{{
    config(
        indexes=[
            {'columns': ['survey_year', 'agency_type', 'province_code'], 'unique': true},
        ]
    )
}}

{#-
    Satisfaction index per province × survey year × service over the pooled
    responses of its communes (as the province was in the survey year), with
    how many communes fall below the target and how many got each rating
    band (macro satisfaction_rollup).
-#}

{{ satisfaction_rollup('province', province_names()) }}
