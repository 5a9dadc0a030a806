{{
    config(
        indexes=[
            {'columns': ['survey_year', 'agency_type', 'district_code'], 'unique': true},
        ]
    )
}}

{#-
    Satisfaction index per district (town) × survey year × service over the
    pooled responses of its communes (the figure the town reports is the
    row of the People's Committee, agency_type UBND), with how many communes fall below the
    target and how many got each rating band (macro satisfaction_rollup).
    Survey years to 2024: districts were abolished on 1/7/2025.
-#}

{{ satisfaction_rollup('district', district_names()) }}
