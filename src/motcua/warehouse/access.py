"""Database access control: least-privilege roles, grants, commune row-level security.

The migration the pipeline runs before it loads (``apply_access``) and the
step it runs after every dbt build (``secure_marts``). Both are idempotent and
take an advisory lock, so they are safe every night and when two runs start
at once. Group roles (``NOLOGIN``; cluster-wide, created if missing):

* ``motcua_loader``: the raw layer only (read, append, update lineage rows).
  The quarantine tables are built by dbt, so the loader gets no privilege on
  ``quarantine``; the raw DDL (``loader.ensure_raw_schema``) is this
  migration's, so no CREATE either.
* ``motcua_transformer``: reads ``raw``; USAGE + CREATE and DML on
  ``staging``, ``intermediate``, ``quarantine``, ``ops``, ``marts`` and ``dq``
  (dbt builds, Great Expectations writes ``dq``).
* ``bi_reader``: SELECT on every relation of ``marts``, present and future
  (default privileges of the roles that create them: dbt recreates its tables
  on every run), and on the view ``dq.latest_results_by_commune``; nothing
  else, no CREATE anywhere, no temporary tables.
* ``motcua_commune_reader`` (only with commune row-level security): the
  commune-grain marts, filtered to the communes mapped to the login in
  ``access.commune_accounts``; ``dim_commune`` and the district marts in full.

Commune row-level security is optional (``enable_commune_rls``; the flag is
the function ``access.secure_mart`` in the database, so the nightly
``apply_access`` keeps it on). Members of the BI group (district and
provincial staff) see every row; members of the commune group see the rows of
the communes mapped to their login in ``access.commune_accounts`` (none when
unmapped), even if they are wrongly in the BI group too (restrictive policy).
dbt's rebuilds drop the policies and the commune group's grant, so commune
accounts are denied, never shown every row, until ``secure_marts`` (or the
dbt post-hook calling ``access.secure_mart``) has run.

The migration runs as a superuser or as a CREATEROLE owner of the warehouse
database. Login users are created by operators, never by code and never with
a password in git, e.g. ``create role alice login password '…' in role
bi_reader``. See ``roles.sql`` and ``commune_rls.sql`` for the grants.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

BI_ROLE = "bi_reader"
LOADER_ROLE = "motcua_loader"
TRANSFORMER_ROLE = "motcua_transformer"
COMMUNE_ROLE = "motcua_commune_reader"

# Marts every commune account reads in full (no personal data, not commune
# rows): the unit dimension and the district aggregates. Any other marts
# table with a commune_code column gets row-level security.
COMMUNE_SHARED_MARTS = ("dim_commune", "district_lateness", "district_satisfaction")
DQ_SUMMARY_VIEW = "dq.latest_results_by_commune"

_HERE = Path(__file__).parent
_LOCK = "select pg_advisory_xact_lock(hashtext('motcua.access'))"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Attributes a group role must never carry (any of them defeats least privilege).
_FORBIDDEN_ATTRIBUTES = {
    "rolsuper": "nosuperuser",
    "rolcreatedb": "nocreatedb",
    "rolcreaterole": "nocreaterole",
    "rolreplication": "noreplication",
    "rolbypassrls": "nobypassrls",
}


class AccessError(RuntimeError):
    """The access migration cannot be applied as asked."""


@dataclass(frozen=True)
class Roles:
    """Names of the group roles (cluster-wide: one set per server)."""

    bi: str = BI_ROLE
    loader: str = LOADER_ROLE
    transformer: str = TRANSFORMER_ROLE
    commune: str = COMMUNE_ROLE

    def __post_init__(self) -> None:
        names = [self.bi, self.loader, self.transformer, self.commune]
        for name in names:
            if not _ROLE_NAME.match(name):
                raise AccessError(f"role name {name!r}: use lower-case letters, digits and _")
        if len(set(names)) != len(names):
            raise AccessError(f"role names must differ: {names}")


@dataclass
class AccessReport:
    """What a run of the migration or of ``secure_marts`` found and did."""

    created_roles: list[str] = field(default_factory=list)
    commune_rls: bool = False
    marts: dict[str, str] = field(default_factory=dict)  # table -> commune_rls|shared|bi_only
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def apply_access(
    conn: psycopg.Connection,
    *,
    bi_role: str = BI_ROLE,
    loader_role: str = LOADER_ROLE,
    transformer_role: str = TRANSFORMER_ROLE,
    commune_role: str = COMMUNE_ROLE,
    dbt_roles: Sequence[str] = (),
    commune_rls: bool | None = None,
) -> AccessReport:
    """Create the group roles and apply every grant (idempotent, concurrent-safe).

    Run it as the role that owns the warehouse (the pipeline's own role, with
    CREATEROLE or superuser) before anything loads. ``dbt_roles``: login roles
    that run dbt without ``role: motcua_transformer`` in their profile; their
    new marts tables get the BI role's SELECT too (the running role, and the
    transformer group, always do). ``commune_rls``: ``True`` enables commune
    row-level security, ``False`` removes it, ``None`` (nightly) keeps it as
    it is and re-applies it when enabled.
    """
    roles = Roles(bi_role, loader_role, transformer_role, commune_role)
    for name in dbt_roles:
        if not _ROLE_NAME.match(name):
            raise AccessError(f"dbt role name {name!r}: use lower-case letters, digits and _")
    from motcua import summary
    from motcua.ingest.loader import ensure_raw_schema
    from motcua.quality.store import ensure_schema as ensure_dq_schema

    report = AccessReport()
    with conn.transaction():
        conn.execute(_LOCK)
        # In this transaction, so that their advisory locks are held to the end:
        # a concurrent DDL on the same catalog rows as a GRANT fails ("tuple
        # concurrently updated"). Lock order: access, raw_schema, dq_schema, ops_schema.
        ensure_raw_schema(conn)  # raw
        ensure_dq_schema(conn)  # dq, with the BI summary view
        summary.ensure_schema(conn)  # ops.run_summaries
        runner = _scalar(conn, "select current_user::text")
        for name in dbt_roles:
            if not _role_exists(conn, name):
                raise AccessError(f"dbt role {name!r} does not exist")
        groups = [roles.bi, roles.loader, roles.transformer]
        enable = _rls_enabled(conn) if commune_rls is None else commune_rls
        if enable or _role_exists(conn, roles.commune):
            groups.append(roles.commune)
        for name in groups:
            if _ensure_group_role(conn, name):
                report.created_roles.append(name)
        report.warnings += _check_group_attributes(conn, groups)
        _act_for(conn, runner, [roles.loader, roles.transformer, *dbt_roles])
        report.warnings += _leaf_groups(conn, [r for r in (roles.bi, roles.commune) if r in groups])
        _execute_file(
            conn,
            "roles.sql",
            db=sql.Identifier(_scalar(conn, "select current_database()::text")),
            bi=sql.Identifier(roles.bi),
            bi_literal=sql.Literal(roles.bi),
            loader=sql.Identifier(roles.loader),
            transformer=sql.Identifier(roles.transformer),
            runner=sql.Identifier(runner),
            raw_creators=_identifiers(runner, roles.loader),
            marts_creators=_identifiers(runner, roles.transformer, *dbt_roles),
        )
        if enable:
            _install_commune_rls(conn, roles)
        elif commune_rls is False:
            _remove_commune_rls(conn, roles)
        report.commune_rls = enable
        _secure_marts(conn, roles, report)
    for warning in report.warnings:
        log.warning("access: %s", warning)
    log.info(
        "access applied: roles %s created, commune RLS %s, %d marts secured",
        report.created_roles or "none",
        "on" if report.commune_rls else "off",
        len(report.marts),
    )
    return report


def enable_commune_rls(conn: psycopg.Connection, **kwargs: Any) -> AccessReport:
    """Turn commune row-level security on (the flag persists in the database)."""
    return apply_access(conn, commune_rls=True, **kwargs)


def disable_commune_rls(conn: psycopg.Connection, **kwargs: Any) -> AccessReport:
    """Turn it off: policies dropped, commune accounts lose every marts grant."""
    return apply_access(conn, commune_rls=False, **kwargs)


def commune_rls_enabled(conn: psycopg.Connection) -> bool:
    return _rls_enabled(conn)


def secure_marts(
    conn: psycopg.Connection,
    *,
    bi_role: str = BI_ROLE,
    loader_role: str = LOADER_ROLE,
    transformer_role: str = TRANSFORMER_ROLE,
    commune_role: str = COMMUNE_ROLE,
) -> AccessReport:
    """After every dbt build: BI's SELECT on all of ``marts``, commune RLS if enabled.

    dbt recreates its tables, and a recreated table has lost its policies and
    the commune accounts' grant (they are denied, never shown every row, until
    this runs). Needs to own the marts tables (dbt's role or the pipeline's).
    """
    roles = Roles(bi_role, loader_role, transformer_role, commune_role)
    report = AccessReport()
    with conn.transaction():
        conn.execute(_LOCK)
        report.commune_rls = _rls_enabled(conn)
        _secure_marts(conn, roles, report)
    for warning in report.warnings:
        log.warning("access: %s", warning)
    return report


# ---------------------------------------------------------------- internals


def _scalar(conn: psycopg.Connection, query: str, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def _identifiers(*names: str) -> sql.Composable:
    unique = list(dict.fromkeys(names))
    return sql.SQL(", ").join(sql.Identifier(n) for n in unique)


def _execute_file(conn: psycopg.Connection, name: str, **params: sql.Composable) -> None:
    template = (_HERE / name).read_text(encoding="utf-8")
    conn.execute(sql.SQL(template).format(**params))  # type: ignore[arg-type]


def _role_exists(conn: psycopg.Connection, name: str) -> bool:
    return bool(_scalar(conn, "select exists (select from pg_roles where rolname = %s)", [name]))


def _rls_enabled(conn: psycopg.Connection) -> bool:
    """The flag: the function that secures a mart exists only while RLS is on."""
    found = _scalar(conn, "select to_regprocedure('access.secure_mart(regclass)') is not null")
    return bool(found)


def _ensure_group_role(conn: psycopg.Connection, name: str) -> bool:
    """Create a NOLOGIN group role if missing; True when this call created it.

    Roles are cluster-wide and the advisory lock is per database: a run in
    another database may create the role at the same moment, which is fine.
    """
    if _role_exists(conn, name):
        return False
    try:
        with conn.transaction():
            conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(name)))
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        return False
    return True


def _act_for(conn: psycopg.Connection, runner: str, names: Sequence[str]) -> None:
    """ALTER DEFAULT PRIVILEGES FOR ROLE x needs the privileges of x.

    A superuser has them; a CREATEROLE owner of the warehouse (PostgreSQL 16+
    gives it ADMIN on the roles it creates, without inheritance) grants
    itself the membership once.
    """
    inherit = sql.SQL(" with inherit true" if conn.info.server_version >= 160000 else "")
    for name in dict.fromkeys(names):
        if name == runner or _scalar(conn, "select pg_has_role(%s, 'USAGE')", [name]):
            continue
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("grant {} to {}{}").format(
                        sql.Identifier(name), sql.Identifier(runner), inherit
                    )
                )
        except psycopg.errors.InsufficientPrivilege as exc:
            raise AccessError(
                f"{runner} cannot set default privileges for {name}: run the migration as a"
                f" superuser, or `grant {name} to {runner}` once"
            ) from exc


def _check_group_attributes(conn: psycopg.Connection, names: Sequence[str]) -> list[str]:
    """Strip attributes that would defeat least privilege (superuser, bypassrls...)."""
    warnings = []
    columns = ", ".join(_FORBIDDEN_ATTRIBUTES)
    rows = conn.execute(
        f"select rolname::text, rolcanlogin, {columns} from pg_roles"
        " where rolname = any(%s) order by 1",
        [list(names)],
    ).fetchall()
    for name, can_login, *flags in rows:
        if can_login:
            warnings.append(f"{name} can log in: it should be a NOLOGIN group (left as is)")
        wrong = [
            opt for opt, flag in zip(_FORBIDDEN_ATTRIBUTES.values(), flags, strict=True) if flag
        ]
        if wrong:
            warnings.append(f"{name} had {', '.join(wrong).replace('no', '')}: removed")
            conn.execute(
                sql.SQL("alter role {} {}").format(
                    sql.Identifier(name), sql.SQL(" ").join(sql.SQL(w) for w in wrong)
                )
            )
    return warnings


def _leaf_groups(conn: psycopg.Connection, names: Sequence[str]) -> list[str]:
    """The reader groups must inherit nothing: revoke any membership they were given."""
    warnings = []
    rows = conn.execute(
        "select r.rolname::text, g.rolname::text, o.rolname::text from pg_auth_members as m"
        " join pg_roles as r on r.oid = m.member join pg_roles as g on g.oid = m.roleid"
        " join pg_roles as o on o.oid = m.grantor"
        " where r.rolname = any(%s) order by 1, 2",
        [list(names)],
    ).fetchall()
    for member, granted, grantor in rows:
        warnings.append(f"{member} was a member of {granted}: revoked (readers inherit nothing)")
        conn.execute(
            sql.SQL("revoke {} from {} granted by {} cascade").format(
                sql.Identifier(granted), sql.Identifier(member), sql.Identifier(grantor)
            )
        )
    return warnings


def _install_commune_rls(conn: psycopg.Connection, roles: Roles) -> None:
    _execute_file(
        conn,
        "commune_rls.sql",
        db=sql.Identifier(_scalar(conn, "select current_database()::text")),
        bi=sql.Identifier(roles.bi),
        transformer=sql.Identifier(roles.transformer),
        commune=sql.Identifier(roles.commune),
        bi_literal=sql.Literal(roles.bi),
        transformer_literal=sql.Literal(roles.transformer),
        commune_literal=sql.Literal(roles.commune),
        shared_literal=sql.Literal(list(COMMUNE_SHARED_MARTS)),
    )


def _remove_commune_rls(conn: psycopg.Connection, roles: Roles) -> None:
    """Drop our policies, disable RLS where no other policy remains, revoke commune grants.

    The mapping table stays (it is the operators' data).
    """
    tables = _marts_tables(conn)
    for table in tables:
        ident = sql.SQL(table)  # regclass text: already quoted and qualified
        for policy in ("motcua_read", "motcua_commune_only"):
            conn.execute(
                sql.SQL("drop policy if exists {} on {}").format(sql.Identifier(policy), ident)
            )
        if not _scalar(
            conn, "select exists (select from pg_policy where polrelid = %s::regclass)", [table]
        ):
            conn.execute(sql.SQL("alter table {} disable row level security").format(ident))
    conn.execute("drop function if exists access.secure_mart(regclass)")
    if _role_exists(conn, roles.commune):
        conn.execute(
            sql.SQL("revoke all on all tables in schema marts from {}").format(
                sql.Identifier(roles.commune)
            )
        )


def _marts_tables(conn: psycopg.Connection, kinds: str = "rp") -> list[str]:
    rows = conn.execute(
        "select c.oid::regclass::text from pg_class as c"
        " where c.relnamespace = to_regnamespace('marts') and c.relkind = any(%s)"
        " order by c.relname",
        [list(kinds)],
    ).fetchall()
    return [r[0] for r in rows]


def _secure_marts(conn: psycopg.Connection, roles: Roles, report: AccessReport) -> None:
    """Per marts relation the caller owns: BI's SELECT only, then commune RLS if enabled.

    The BI grant is belt and braces for tables made by a role without default
    privileges. A relation owned by a role the caller cannot act for is left
    alone, with a warning.
    """
    if _scalar(conn, "select to_regnamespace('marts') is null"):
        return
    rows = conn.execute(
        "select c.oid::regclass::text, pg_has_role(c.relowner, 'USAGE'),"
        " c.relowner::regrole::text from pg_class as c"
        " where c.relnamespace = 'marts'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')"
        " order by c.relname"
    ).fetchall()
    bi = sql.Identifier(roles.bi)
    for name, manageable, owner in rows:
        if not manageable:
            report.marts[name] = "skipped"
            report.warnings.append(f"{name} is owned by {owner}: not secured by this role")
            continue
        relation = sql.SQL(name)  # regclass text: quoted and schema-qualified already
        conn.execute(sql.SQL("revoke all on {} from public, {}").format(relation, bi))
        conn.execute(sql.SQL("grant select on {} to {}").format(relation, bi))
        outcome = "bi_only"
        if report.commune_rls:
            outcome = _scalar(conn, "select access.secure_mart(%s::regclass)", [name])
        report.marts[name] = str(outcome)
    readable = "select has_table_privilege('access.commune_accounts', 'SELECT')"
    if report.commune_rls and _scalar(conn, readable):  # not for dbt's role: no need
        report.warnings += _mapping_warnings(conn, roles)


def _mapping_warnings(conn: psycopg.Connection, roles: Roles) -> list[str]:
    """Commune accounts that see nothing, mappings that restrict nobody, both groups."""
    warnings = []
    rows = conn.execute(
        """
        select r.rolname::text,
               pg_has_role(r.oid, %(commune)s, 'USAGE') as in_commune,
               pg_has_role(r.oid, %(bi)s, 'USAGE') as in_bi,
               exists (select from access.commune_accounts as a
                       where a.role_name = r.rolname::text) as mapped
        from pg_roles as r
        where r.rolcanlogin and not r.rolsuper and r.rolname !~ '^pg_'
        order by 1
        """,
        {"commune": roles.commune, "bi": roles.bi},
    ).fetchall()
    for name, in_commune, in_bi, mapped in rows:
        if in_commune and not mapped:
            warnings.append(f"{name} is a commune account with no commune mapped: sees no row")
        if mapped and not in_commune:
            warnings.append(
                f"{name} is mapped in access.commune_accounts but not a member of"
                f" {roles.commune}: the mapping restricts nothing"
            )
        if in_commune and in_bi:
            warnings.append(
                f"{name} is in both {roles.commune} and {roles.bi}: between a dbt build and"
                " secure_marts it could read every row; keep commune accounts out of"
                f" {roles.bi}"
            )
    unknown = conn.execute(
        "select distinct a.role_name from access.commune_accounts as a"
        " where not exists (select from pg_roles as r where r.rolname = a.role_name) order by 1"
    ).fetchall()
    warnings += [f"access.commune_accounts maps {r[0]}, which is no role" for r in unknown]
    return warnings
