{#-
    The four incremental intermediate tables (int_onestop__rows_checked,
    int_onestop__dossiers_current and the ledgers int_reporting__commune_days,
    int_index766__procedure_durations) are UNLOGGED (`unlogged=true` in their
    config): derived state that a build recomputes from raw, so PostgreSQL
    writes no WAL for them. A night changes rows all over them (their
    dossier-code indexes above all), and after a checkpoint the first change
    of each page wrote a full-page image to the WAL: 1.7 GB of WAL for a 0.5 %
    night at 10M dossiers, half of it theirs (docs/benchmarks.md,
    2026-12-08). The other intermediate tables are rebuilt whole each night,
    which an embedded server (wal_level minimal) does without WAL anyway;
    they and the marts stay logged.

    The price: after a crash (not a clean shutdown) PostgreSQL empties every
    unlogged table, all of them at once. The next build recomputes them in
    full, incremental as they are: an empty table reads as "nothing checked,
    current or counted yet" (tests/dbt_project/test_incremental_delta.py).
    What must never happen is a publication from emptied tables: a crash
    between the nightly `transform` and `publish` builds would rebuild the
    marts from nothing. Hence this pre-hook of every mart (dbt_project.yml):
    a mart built from them fails, keeping its previous contents, when raw
    holds one-stop rows and int_onestop__rows_checked, the first of them and
    an ancestor of the others, holds none.

    Only a mart with int_onestop__rows_checked among its ancestors is
    checked: a whole build after a crash runs those after it is filled again,
    while the others (dim_commune) may run before. The relations come from
    dbt's graph, not ref() or source(): in a hook those would make every mart
    depend on them directly (and every unit test of a mart need them as
    inputs).
-#}
{% macro assert_intermediates_present() -%}
    {%- if execute -%}
        {%- set ancestors = [model.unique_id] -%}
        {%- for uid in ancestors -%}
            {%- for parent in graph.nodes.get(uid, {}).get('depends_on', {}).get('nodes', []) -%}
                {%- if parent not in ancestors %}{% do ancestors.append(parent) %}{% endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set pairs = [] -%}
        {%- for raw, checked in [
            ('source.motcua.onestop.onestop_rows', 'model.motcua.int_onestop__rows_checked'),
        ] if checked in ancestors -%}
            {%- do pairs.append((graph.sources[raw].relation_name, graph.nodes[checked].relation_name)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if pairs -%}
    do $$
    declare
        pair text[];
        emptied boolean;
    begin
        -- dynamic SQL: a relation that does not exist (yet) has nothing to check
        foreach pair slice 1 in array array[
            {%- for raw, checked in pairs %}
            array[$q${{ raw }}$q$, $q${{ checked }}$q$]{{ "," if not loop.last }}
            {%- endfor %}
        ] loop
            continue when to_regclass(pair[1]) is null or to_regclass(pair[2]) is null;
            execute format(
                'select exists (select from %s) and not exists (select from %s)',
                pair[1], pair[2]
            ) into emptied;
            if emptied then
                raise exception '%', 'the intermediate tables are empty although raw holds rows:'
                    ' the warehouse server emptied its unlogged tables after a crash.'
                    ' The marts keep their previous contents; run the whole night again'
                    ' (its transform rebuilds the intermediate tables first)';
            end if;
        end loop;
    end
    $$
    {%- endif -%}
{%- endmacro %}
