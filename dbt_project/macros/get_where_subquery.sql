{#-
    dbt's hook for the `where` config of data tests (documented way to give it
    run-time values), extended by one placeholder: __run_date__ becomes the
    run's date (macro run_date). The big incremental tables name the run that wrote each row
    (checked_for_run_date, computed_for_run_date, fct_dossier.as_of_date);
    their tests say `where: "<that column> = __run_date__"`, so that a nightly
    run tests the rows it wrote, not the whole history, and a full build, which
    writes every row with this run_date, tests everything.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where | replace('__run_date__', "'" ~ run_date() ~ "'::date") -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
