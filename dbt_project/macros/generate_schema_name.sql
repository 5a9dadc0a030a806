{#-
    Custom schemas are used as-is (staging, intermediate, marts, quarantine,
    ops) instead of dbt's default "<target_schema>_<custom_schema>", so BI
    tools read the fixed schema `marts` in every environment. Models without
    a custom schema land in the target schema (analytics).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
