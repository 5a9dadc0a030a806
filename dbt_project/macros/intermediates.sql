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
    they, the quarantine, ops and the marts stay logged.

    The price: PostgreSQL empties every unlogged table after a crash (not a
    clean shutdown), and a restored base backup or a promoted standby has
    them empty too. The next build rebuilds them in full (should_full_refresh
    below; tests/dbt_project/test_incremental_delta.py). What must never
    happen is a model that stays logged (a mart, the quarantine, ops) built
    from emptied tables: a crash between the nightly `transform` and
    `publish` builds would rebuild the marts from nothing. Hence:
    - record_unlogged_build(), a post-hook of the intermediate models: an
      unlogged table, once built, records it in `unlogged_builds`, an
      unlogged table of its own schema, emptied by the same crash;
    - assert_intermediates_present(), a pre-hook of every mart, quarantine
      and ops model (dbt_project.yml): the model fails, keeping its previous
      contents, when one of its unlogged ancestors exists but has not been
      built since the last crash;
    - should_full_refresh() (dbt's own macro, overridden here): a table that
      records its builds and exists without its record was emptied since it
      was last built, and is rebuilt as `--full-refresh` rebuilds it (one
      `create table as`, then its indexes), not row by row through its
      incremental path: at 10M dossiers the night after a crash took 933 s
      that way, against ~400 s for a full build (docs/benchmarks.md,
      2026-12-08, late). marts.fct_dossier records its builds too (config
      meta `rebuilt_after_crash`): after a crash it recomputes every dossier,
      which its table rebuild does faster than a delete and insert of all of
      them.
-#}

{#- Whether this model records its builds in unlogged_builds (see above). -#}
{% macro records_builds() -%}
    {{- return(
        config.get('materialized') != 'view'
        and (config.get('unlogged') or (config.get('meta') or {}).get('rebuilt_after_crash'))
    ) -}}
{%- endmacro %}

{#- The schema of the unlogged tables, where their records live (from dbt's graph). -#}
{% macro unlogged_schema() -%}
    {%- if config.get('unlogged') %}{{ return(this.schema) }}{% endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.get('config', {}).get('unlogged') and node.config.materialized != 'view' -%}
            {{- return(node.schema) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return(this.schema) -}}
{%- endmacro %}

{#-
    dbt's should_full_refresh(), plus the case above: the model's table
    exists, records its builds, and has no record (emptied by a crash since
    it was built). A model's own `full_refresh` config still decides first.
-#}
{% macro should_full_refresh() -%}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is not none %}{{ return(configured) }}{% endif -%}
    {%- if flags.FULL_REFRESH %}{{ return(true) }}{% endif -%}
    {{- return(emptied_since_built()) -}}
{%- endmacro %}

{% macro emptied_since_built() -%}
    {%- if not execute or not records_builds() %}{{ return(false) }}{% endif -%}
    {%- if adapter.get_relation(this.database, this.schema, this.identifier) is none -%}
        {{- return(false) -}}  {#- a first build: full anyway -#}
    {%- endif -%}
    {%- set records = adapter.get_relation(this.database, unlogged_schema(), 'unlogged_builds') -%}
    {%- if records is none %}{{ return(true) }}{% endif -%}
    {%- set found = run_query(
        "select count(*) from " ~ records ~ " where table_name = '" ~ this.identifier ~ "'"
    ) -%}
    {{- return(found.columns[0].values()[0] == 0) -}}
{%- endmacro %}

{% macro record_unlogged_build() -%}
    {%- if records_builds() %}
    {%- set schema = unlogged_schema() %}
    do $$
    begin
        -- two models may create it at once (the ledgers run side by side)
        create unlogged table if not exists {{ schema }}.unlogged_builds (
            table_name text primary key,
            built_at timestamptz not null
        );
    exception when unique_violation or duplicate_table then null;
    end
    $$;
    insert into {{ schema }}.unlogged_builds (table_name, built_at)
    values ('{{ this.identifier }}', now())
    on conflict (table_name) do update set built_at = excluded.built_at
    {%- endif %}
{%- endmacro %}

{#-
    The unlogged ancestors come from dbt's graph (their config), not ref():
    in a hook, ref() would make every mart depend on them directly (and
    every unit test of a mart need them as inputs). An ancestor not built
    yet (a first build) has nothing to check: the model runs after it.
-#}
{% macro assert_intermediates_present() -%}
    {%- set unlogged = [] -%}
    {%- if execute -%}
        {%- set ancestors = [model.unique_id] -%}
        {%- for uid in ancestors -%}
            {%- for parent in graph.nodes.get(uid, {}).get('depends_on', {}).get('nodes', []) -%}
                {%- if parent not in ancestors %}{% do ancestors.append(parent) %}{% endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- for uid in ancestors[1:] -%}
            {%- set node = graph.nodes.get(uid, {}) -%}
            {%- if node.get('config', {}).get('unlogged') and node.config.materialized != 'view' -%}
                {%- do unlogged.append((node.schema, node.alias)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if unlogged -%}
    do $$
    declare
        ancestor text[];
        built boolean;
        missing text[] := '{}';
    begin
        foreach ancestor slice 1 in array array[
            {%- for schema, name in unlogged %}
            array[$q${{ schema }}$q$, $q${{ name }}$q$]{{ "," if not loop.last }}
            {%- endfor %}
        ] loop
            continue when to_regclass(format('%I.%I', ancestor[1], ancestor[2])) is null;
            built := false;
            if to_regclass(format('%I.unlogged_builds', ancestor[1])) is not null then
                execute format(
                    'select exists (select from %I.unlogged_builds where table_name = %L)',
                    ancestor[1], ancestor[2]
                ) into built;
            end if;
            if not built then
                missing := missing || format('%I.%I', ancestor[1], ancestor[2]);
            end if;
        end loop;
        if cardinality(missing) > 0 then
            raise exception '% not built since the warehouse server last emptied its unlogged tables (a crash, a restored backup): this model keeps its previous contents; run the whole night again, its transform rebuilds them first',
                array_to_string(missing, ', ');
        end if;
    end
    $$
    {%- endif -%}
{%- endmacro %}
