{#-
    The as-of date of the run (cut-off of the current period), as text
    'YYYY-MM-DD'. The pipeline sets the environment variable MOTCUA_RUN_DATE;
    a run_date var (`--vars '{run_date: YYYY-MM-DD}'`, a unit test's
    overrides) takes precedence; without either, 2017-07-14, the date of the
    letter. An environment variable, not a var, in the nightly: dbt's partial
    parsing re-parses only the files that read a changed environment
    variable, while any change of --vars re-parses the whole project, which
    every night would pay for (a new date each night).
-#}
{% macro run_date() -%}
    {{- return(var('run_date', env_var('MOTCUA_RUN_DATE', '2017-07-14'))) -}}
{%- endmacro %}
