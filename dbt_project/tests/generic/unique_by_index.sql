{#-
    The key of a big incremental table is unique because a valid unique
    index on exactly `columns` (no predicate) enforces it: a duplicate cannot
    be written, whatever run writes it. This test fails when that index is
    missing or invalid. It reads the catalog only, where a `unique` test
    would group the whole table (10 s a key at 10M rows) every night.
-#}
{% test unique_by_index(model, columns) %}
select '{{ model.schema }}.{{ model.identifier }} ({{ columns | join(", ") }})' as missing_unique_index
where not exists (
    select
    from pg_catalog.pg_index as i
    inner join pg_catalog.pg_class as c on i.indrelid = c.oid
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where
        n.nspname = '{{ model.schema }}'
        and c.relname = '{{ model.identifier }}'
        and i.indisunique
        and i.indisvalid
        and i.indpred is null
        and i.indexprs is null
        and (
            select array_agg(a.attname::text order by a.attname::text)
            from pg_catalog.pg_attribute as a
            where a.attrelid = c.oid and a.attnum = any(i.indkey)
        ) = array[{%- for column in columns | sort %}'{{ column }}'{{ ", " if not loop.last }}{% endfor -%}]::text[]
        and i.indnkeyatts = {{ columns | length }}
)
{% endtest %}
