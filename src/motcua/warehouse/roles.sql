-- Least-privilege access to the warehouse: schema, table and default
-- privileges of the group roles. Run by motcua.warehouse.access.apply_access
-- (which creates the roles first) in one transaction under an advisory lock;
-- idempotent: running it again leaves every ACL as it was.
--
-- Rendered with psycopg.sql before it runs: {db} is the current database,
-- {bi} {loader} {transformer} the group roles, {runner} the role applying
-- it, {raw_creators} / {marts_creators} the roles whose new raw / marts
-- tables get default privileges, {bi_literal} the BI role as a string.
--
--   role          gets
--   {loader}      raw: USAGE, SELECT/INSERT/UPDATE on tables (no DDL: the raw
--                 DDL is the loader's own, loader.ensure_raw_schema)
--   {transformer} raw: SELECT; staging, intermediate, quarantine, ops, marts,
--                 dq: USAGE + CREATE and DML (dbt builds, GX writes dq)
--   {bi}          marts: SELECT on every relation, now and future;
--                 dq: SELECT on dq.latest_results_by_commune only; nothing
--                 else, no CREATE anywhere, no temporary tables
--
-- Personal data (raw, staging, intermediate, quarantine) never reaches
-- marts or the dq view (docs/rules.md).

-- The schemas dbt builds into exist before dbt runs: then no role needs
-- CREATE on the database (dbt only creates the schemas it cannot find).
-- Each of the others has one owner, which motcua.warehouse.access runs
-- first: raw motcua.ingest.loader (raw_schema.sql), ops motcua.summary,
-- dq motcua.quality.store.
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists quarantine;
create schema if not exists marts;

-- ---------------------------------------------------------------- database
-- Nobody creates schemas or temporary tables unless granted here.
revoke create, temporary on database {db} from public;
revoke create, temporary on database {db} from {bi};
grant connect on database {db} to {loader}, {transformer}, {bi};
-- the API connector and dbt's incremental models use temporary tables
grant temporary on database {db} to {loader}, {transformer};

-- ------------------------------------------------ PUBLIC: private schemas
revoke all on schema public, raw, staging, intermediate, quarantine, ops from public;
revoke all on all tables in schema
public, raw, staging, intermediate, quarantine, ops, marts, dq from public;
revoke all on all sequences in schema
public, raw, staging, intermediate, quarantine, ops, marts, dq from public;
revoke all on all functions in schema
raw, staging, intermediate, quarantine, ops, marts, dq from public;
revoke all on schema marts, dq from public;

-- ------------------------------------------------------------------ loader
revoke create on schema raw from {loader};
grant usage on schema raw to {loader};
grant select, insert, update on all tables in schema raw to {loader};
grant usage, select, update on all sequences in schema raw to {loader};
alter default privileges for role {runner} in schema raw
grant select, insert, update on tables to {loader};
alter default privileges for role {runner} in schema raw
grant usage, select, update on sequences to {loader};

-- ------------------------------------------------------------- transformer
-- extension functions, if any, live in public: usable, not creatable
grant usage on schema public, raw to {transformer};
grant select on all tables in schema raw to {transformer};
alter default privileges for role {raw_creators} in schema raw
grant select on tables to {transformer};
grant usage, create on schema
staging, intermediate, quarantine, ops, marts, dq to {transformer};
grant select, insert, update, delete, truncate on all tables in schema
staging, intermediate, quarantine, ops, marts, dq to {transformer};
grant usage, select, update on all sequences in schema
staging, intermediate, quarantine, ops, marts, dq to {transformer};
alter default privileges for role {runner} in schema
staging, intermediate, quarantine, ops, marts, dq
grant select, insert, update, delete, truncate on tables to {transformer};
alter default privileges for role {runner} in schema
staging, intermediate, quarantine, ops, marts, dq
grant usage, select, update on sequences to {transformer};

-- -------------------------------------------------------------- BI reader
-- Not one privilege outside marts and dq, in any schema of the database
-- (also schemas this file does not know: dbt's target schema, audit schemas).
do $revoke_bi$
declare
    s text;
begin
    for s in
        select n.nspname from pg_namespace as n
        where n.nspname not in ('marts', 'dq', 'information_schema')
            and n.nspname not like 'pg\_%'
    loop
        execute format('revoke all on schema %I from %I', s, {bi_literal});
        execute format('revoke all on all tables in schema %I from %I', s, {bi_literal});
        execute format('revoke all on all sequences in schema %I from %I', s, {bi_literal});
        execute format('revoke all on all functions in schema %I from %I', s, {bi_literal});
    end loop;
end
$revoke_bi$;

revoke create on schema marts, dq from {bi};
grant usage on schema marts, dq to {bi};
revoke all on all sequences in schema marts, dq from {bi};
revoke all on all functions in schema marts, dq from {bi};
revoke all on all tables in schema dq from {bi};
-- SELECT and nothing else on every marts relation; the same for tables dbt
-- creates later (it recreates them on every run) through default privileges
-- of the roles that create them.
revoke all on all tables in schema marts from {bi};
grant select on all tables in schema marts to {bi};
alter default privileges for role {marts_creators} in schema marts
grant select on tables to {bi};

-- ------------------------------------------------------- dq summary for BI
-- The latest result of every check per commune, counts and shares only (the
-- view is schema dq's, defined in motcua.quality.store).
grant select on dq.latest_results_by_commune to {bi};
