{#-
    The controlled vocabularies of the sources live in one place, the seed
    vocabularies (seeds/config/vocabularies.csv), which the generator and
    the GX suites read too (motcua.vocabularies). The staging models turn
    them into SQL when dbt compiles: vocabulary(name) reads the seed's rows
    from the warehouse, so the SQL is the same CASE a hand-written list
    would give, at no cost per row. While dbt parses (`execute` false) the
    macro calls ref(): every model that uses a vocabulary then depends on
    the seed, so dbt builds the seed first, and the lists are empty (parsing
    needs no values). When it executes, the rows are read from the relation
    the graph names: in a unit test, ref() would name the test's inputs.
-#}

{#- The rows of vocabulary `name`: dicts value, role, code, spelling, category. -#}
{% macro vocabulary(name) -%}
    {%- if not execute -%}
        {#- parsing: the model depends on the seed, no values needed -#}
        {%- set seed = ref('vocabularies') -%}
        {{- return([]) -}}
    {%- endif -%}
    {#- a unit test's graph is empty: then the schema dbt_project.yml gives the seeds -#}
    {%- set seeds = graph.get('nodes', {}).values()
        | selectattr('resource_type', 'equalto', 'seed')
        | selectattr('name', 'equalto', 'vocabularies')
        | list -%}
    {%- set schema = seeds[0].schema if seeds else generate_schema_name('staging', none) | trim -%}
    {%- set relation = adapter.get_relation(
        database=target.database, schema=schema, identifier='vocabularies'
    ) -%}
    {%- if relation is none -%}
        {{- exceptions.raise_compiler_error(
            "The seed vocabularies is not in the warehouse: `dbt seed --select vocabularies`"
            ~ " (dbt build seeds it first)"
        ) -}}
    {%- endif -%}
    {%- set query -%}
        select value, role, code, spelling, category
        from {{ relation }}
        where vocabulary = '{{ name }}'
        order by value
    {%- endset -%}
    {%- set entries = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do entries.append({
            'value': row['value'], 'role': row['role'], 'code': row['code'],
            'spelling': row['spelling'], 'category': row['category'],
        }) -%}
    {%- endfor -%}
    {%- if not entries -%}
        {{- exceptions.raise_compiler_error("No vocabulary '" ~ name ~ "' in the seed vocabularies") -}}
    {%- endif -%}
    {{- return(entries) -}}
{%- endmacro %}

{#-
    (canonical value, [accepted keys]) of vocabulary `name`, for map_vocabulary:
    the code (channel: the export's number) and the accent-free spelling.
-#}
{% macro vocabulary_mapping(name) -%}
    {%- set mapping = [] -%}
    {%- for entry in vocabulary(name) -%}
        {%- set keys = ([entry.code] if entry.code else []) + [entry.spelling] -%}
        {%- do mapping.append((entry.value, keys)) -%}
    {%- endfor -%}
    {{- return(mapping) -}}
{%- endmacro %}

{#-
    `('a', 'b')`: the values of vocabulary `name` (of one category when given);
    `brackets='[]'` gives `['a', 'b']`, for array[...].
-#}
{% macro vocabulary_values(name, category=none, brackets='()') -%}
    {%- set values = [] -%}
    {%- for entry in vocabulary(name) -%}
        {%- if category is none or entry.category == category -%}
            {%- do values.append("'" ~ entry.value ~ "'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{- brackets[0] ~ (values | join(', ') if values else 'null') ~ brackets[1] -}}
{%- endmacro %}

{#- `'value'`: the value of vocabulary `name` with role `role` (e.g. channel online). -#}
{% macro vocabulary_value(name, role) -%}
    {%- set found = vocabulary(name) | selectattr('role', 'equalto', role) | list -%}
    {%- if execute and not found -%}
        {{- exceptions.raise_compiler_error("No role '" ~ role ~ "' in vocabulary '" ~ name ~ "'") -}}
    {%- endif -%}
    {{- "'" ~ found[0].value ~ "'" if found else 'null' -}}
{%- endmacro %}
