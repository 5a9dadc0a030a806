{#-
    The as-of date of the run (cut-off of the current period), as text
    'YYYY-MM-DD'. The pipeline sets the environment variable MOTCUA_RUN_DATE;
    a run_date var (`--vars '{run_date: YYYY-MM-DD}'`, a unit test's
    overrides) takes precedence; without either, 2017-07-14, the date of the
    letter. An environment variable read only when dbt executes (`execute`),
    not a var: a new date each night then costs dbt no parsing at all, where
    a changed --vars makes it re-parse the whole project (and an environment
    variable read while parsing, the files that read it). Parsing needs no
    date: it only collects refs and configs, and no config uses the date.
-#}
{% macro run_date() -%}
    {%- set letter_date = '2017-07-14' -%}
    {%- set from_env = env_var('MOTCUA_RUN_DATE', letter_date) if execute else letter_date -%}
    {{- return(var('run_date', from_env)) -}}
{%- endmacro %}
