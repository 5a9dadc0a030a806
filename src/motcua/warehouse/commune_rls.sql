-- Optional row-level security on the marts: a commune's account sees only
-- its own commune's rows. Installed by motcua.warehouse.access
-- (enable_commune_rls / apply_access(commune_rls=True)), after roles.sql, in
-- the same transaction; idempotent. Rendered with psycopg.sql: {db}, {bi},
-- {transformer}, {commune} are identifiers, *_literal the same as strings,
-- {shared_literal} the marts every commune account reads in full.
--
-- Who sees what, once a marts table is secured (access.secure_mart):
--   {bi} members (district, province)      every row
--   {commune} members (commune accounts)   rows whose commune_code is
--                                          mapped to their login name in
--                                          access.commune_accounts; none if
--                                          unmapped; also when they are in
--                                          {bi} too (restrictive policy)
--   {transformer}                          every row (it owns what it builds)
--   anyone else                            no row
-- Marts without commune_code (district_*) and dim_commune are shared in full
-- when listed in {shared_literal}; any other marts relation (a view, a new
-- table) is not readable by commune accounts at all: fail closed.

create schema if not exists access;
revoke all on schema access from public;
grant usage on schema access to {commune}, {transformer};

-- Operators map login roles to communes here (one login may have several
-- communes). The login role must also be a member of {commune}.
create table if not exists access.commune_accounts (
    role_name     text not null,
    commune_code  text not null check (commune_code ~ '^[0-9][0-9][0-9][0-9][0-9]$'),
    note          text,
    created_at    timestamptz not null default now(),
    primary key (role_name, commune_code)
);
revoke all on access.commune_accounts from public;

-- The communes of the querying role. current_user in a view is the caller
-- (the view's owner only reads the mapping for it). security_barrier: no
-- caller-supplied function sees mapping rows of other roles.
create or replace view access.my_communes with (security_barrier = true) as
select a.commune_code
from access.commune_accounts as a
where a.role_name = current_user::text;
revoke all on access.my_communes from public;
grant select on access.my_communes to {commune};

-- Secures one marts table; called for every marts table by
-- access.secure_marts() (Python) after each dbt build, or by a dbt post-hook.
-- The caller must own the table (dbt's role does). Returns what it did:
-- commune_rls | shared | bi_only.
create or replace function access.secure_mart(mart regclass) returns text
language plpgsql
set search_path = pg_catalog, pg_temp
as $secure_mart$
declare
    bi_role constant text := {bi_literal};
    transformer_role constant text := {transformer_literal};
    commune_role constant text := {commune_literal};
    shared constant text [] := {shared_literal};
    mart_schema text;
    mart_name text;
    mart_kind "char";
begin
    select n.nspname, c.relname, c.relkind
    into mart_schema, mart_name, mart_kind
    from pg_class as c inner join pg_namespace as n on c.relnamespace = n.oid
    where c.oid = mart;
    if mart_schema is distinct from 'marts' then
        raise exception 'access.secure_mart: % is not in schema marts', mart;
    end if;
    execute format('revoke all on %s from %I', mart, commune_role);
    if mart_kind not in ('r', 'p') then
        return 'bi_only';  -- views: no row-level security, so no commune access
    end if;
    if exists (select 1 from pg_policy where polrelid = mart and polname = 'motcua_read') then
        execute format('drop policy motcua_read on %s', mart);
    end if;
    if exists (
        select 1 from pg_policy where polrelid = mart and polname = 'motcua_commune_only'
    ) then
        execute format('drop policy motcua_commune_only on %s', mart);
    end if;
    if mart_name <> all(shared) and exists (
        select 1 from pg_attribute as a
        where a.attrelid = mart and a.attname = 'commune_code'
            and a.attnum > 0 and not a.attisdropped
    ) then
        execute format('alter table %s enable row level security', mart);
        execute format(
            'create policy motcua_read on %s as permissive for select to %I, %I, %I'
            ' using (true)',
            mart, bi_role, transformer_role, commune_role
        );
        execute format(
            'create policy motcua_commune_only on %s as restrictive for select to %I'
            ' using (commune_code in (select m.commune_code from access.my_communes as m))',
            mart, commune_role
        );
        execute format('grant select on %s to %I', mart, commune_role);
        return 'commune_rls';
    end if;
    if not exists (select 1 from pg_policy where polrelid = mart) then
        execute format('alter table %s disable row level security', mart);
    end if;
    if mart_name = any(shared) then
        execute format('grant select on %s to %I', mart, commune_role);
        return 'shared';
    end if;
    return 'bi_only';
end
$secure_mart$;

revoke all on function access.secure_mart(regclass) from public;
grant execute on function access.secure_mart(regclass) to {transformer};

-- Commune accounts: connect, read marts (as secured above) and their own
-- mapping; nothing else anywhere, no CREATE, no temporary tables.
revoke create, temporary on database {db} from {commune};
grant connect on database {db} to {commune};
do $revoke_commune$
declare
    s text;
begin
    for s in
        select n.nspname from pg_namespace as n
        where n.nspname not in ('information_schema')
            and n.nspname not like 'pg\_%'
    loop
        if s not in ('marts', 'access') then
            execute format('revoke all on schema %I from %I', s, {commune_literal});
        end if;
        execute format('revoke create on schema %I from %I', s, {commune_literal});
        if s <> 'marts' then
            execute format(
                'revoke all on all tables in schema %I from %I', s, {commune_literal}
            );
        end if;
        execute format('revoke all on all sequences in schema %I from %I', s, {commune_literal});
        execute format('revoke all on all functions in schema %I from %I', s, {commune_literal});
    end loop;
end
$revoke_commune$;
grant usage on schema marts to {commune};
grant select on access.my_communes to {commune};
