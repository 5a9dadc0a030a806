{#-
    The as-of date of the run (cut-off of the current period), as text
    'YYYY-MM-DD'. The pipeline sets the environment variable MOTCUA_RUN_DATE;
    a run_date var (`--vars '{run_date: YYYY-MM-DD}'`, a unit test's
    overrides) takes precedence. Without either, a build fails with a
    message saying so: a silent default date would publish marts as of the
    wrong day. An environment variable read only when dbt executes
    (`execute`), not a var: a new date each night then costs dbt no parsing
    at all, where a changed --vars makes it re-parse the whole project (and
    an environment variable read while parsing, the files that read it).
    Parsing needs no date: it only collects refs and configs, and no config
    uses the date, so a placeholder stands in for it there.
-#}
{% macro run_date() -%}
    {%- if not execute -%}
        {{- return('1900-01-01') -}}
    {%- endif -%}
    {%- set value = var('run_date', env_var('MOTCUA_RUN_DATE', '')) | string | trim -%}
    {%- if not value -%}
        {{- exceptions.raise_compiler_error(
            "No run date: set the environment variable MOTCUA_RUN_DATE=YYYY-MM-DD"
            ~ " (python -m motcua run sets it from RUN_DATE) or pass"
            ~ " --vars '{run_date: YYYY-MM-DD}'"
        ) -}}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value) -%}
        {{- exceptions.raise_compiler_error(
            "The run date must be YYYY-MM-DD, got '" ~ value ~ "'"
            ~ " (MOTCUA_RUN_DATE or the run_date var)"
        ) -}}
    {%- endif -%}
    {{- return(value) -}}
{%- endmacro %}
