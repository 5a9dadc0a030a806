"""Schema ``dq``: the history of every check, and the contact rows of runs in flight.

Created idempotently by the code that writes it (safe on every run, also when
two runs start at once). Nothing here ever holds personal data: codes,
counts, shares and thresholds only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg

from motcua.quality.settings import Window

log = logging.getLogger(__name__)

SCHEMA_SQL = """
create schema if not exists dq;

-- One row per expectation evaluated per batch (per commune and window for the
-- contact suite), appended by every run: the history of data quality.
create table if not exists dq.validation_results (
    result_id           bigint generated always as identity primary key,
    run_id              uuid not null,
    run_date            date not null,
    checked_at          timestamptz not null,
    checkpoint          text not null,
    suite               text not null,
    expectation         text not null,      -- GX expectation type
    check_name          text not null,      -- stable short name (suite meta "check")
    column_name         text,
    severity            text not null check (severity in ('block', 'warn')),
    window_name         text,               -- contact suite: last_7_days | month_to_date
    period_start        date,
    period_end          date,
    commune_code        text,               -- contact suite: the commune evaluated
    element_count       bigint,             -- rows in the batch
    unexpected_count    bigint,             -- rows failing the expectation
    -- distinct failing keys (dossiers, files...); the failing rows when GX listed only some
    affected_count      bigint,
    observed_value      numeric,            -- share of non-null rows meeting the expectation
    threshold           numeric,            -- the `mostly` it had to reach
    success             boolean not null,
    failing_key         text,               -- what failing_codes are: dossier_code, file_name...
    -- a few, sorted (of the 20 GX lists when more fail); never personal data
    failing_codes       text[] not null default '{}',
    expectation_kwargs  jsonb,              -- resolved parameters (thresholds, value sets)
    error               text                -- set when the check could not be evaluated
);
create index if not exists validation_results_run_id on dq.validation_results (run_id);
create index if not exists validation_results_run_date
    on dq.validation_results (run_date, suite, commune_code);
-- the quality report reads the runs of its last days
create index if not exists validation_results_checked_at on dq.validation_results (checked_at);

-- Held the received-date windows of the runs in flight, which the contact asset
-- of the GX project joined; the asset now reads dq.contact_dossiers (below).
drop table if exists dq.check_windows;

-- The contact flags of the dossiers received in each window of the runs in
-- flight, written once per run (stage_contacts) and read by the GX asset
-- contact_dossiers, one batch per run x window x commune through the index:
-- each batch reads its own rows instead of re-running the join over the whole
-- window for each of its metric queries (docs/benchmarks.md). Codes and flags
-- only. A run deletes its rows when done (release_contacts, also on failure);
-- unlogged: rows of runs in flight only, nothing to recover after a crash.
-- staged_by: the server pid of the session that staged them, which a run keeps
-- open until it releases them; rows whose session is gone (a run killed before
-- its release, SIGKILL included) are deleted by the next run (stage_contacts).
create unlogged table if not exists dq.contact_dossiers (
    run_id           text not null,
    window_name      text not null,
    commune_code     text not null,     -- '(none)' for a dossier without a commune
    dossier_code     text,
    address_present  boolean not null,
    phone_valid      boolean not null,
    email_valid      boolean not null
);
-- staged_by, added here only (also to a table made before it); checked first,
-- as ALTER TABLE would lock the table against the runs in flight even when the
-- column is there
do $$
begin
    if not exists (
        select from information_schema.columns
        where
            table_schema = 'dq'
            and table_name = 'contact_dossiers'
            and column_name = 'staged_by'
    ) then
        alter table dq.contact_dossiers add column staged_by integer default pg_backend_pid();
    end if;
end
$$;
create index if not exists contact_dossiers_batch
    on dq.contact_dossiers (run_id, window_name, commune_code);

-- For BI (bi_reader, granted by motcua.warehouse.access): the latest result of
-- every check for every commune (commune_code null: town-wide pipeline
-- checks): counts and shares only, no failing codes, no parameters, no error
-- text.
create or replace view dq.latest_results_by_commune as
select distinct on (
    r.commune_code, r.checkpoint, r.suite, r.check_name, r.column_name, r.window_name
)
    r.commune_code,
    r.checkpoint,
    r.suite,
    r.check_name,
    r.column_name,
    r.window_name,
    r.severity,
    r.success,
    r.run_date,
    r.checked_at,
    r.period_start,
    r.period_end,
    r.element_count,
    r.unexpected_count,
    r.affected_count,
    r.observed_value,
    r.threshold,
    r.error is not null as has_error
from dq.validation_results as r
order by
    r.commune_code, r.checkpoint, r.suite, r.check_name, r.column_name, r.window_name,
    r.checked_at desc, r.result_id desc;

comment on view dq.latest_results_by_commune is
'Latest result per commune (null: town-wide) and check; for BI (bi_reader). No failing codes.';
"""

COLUMNS = (
    "run_id",
    "run_date",
    "checked_at",
    "checkpoint",
    "suite",
    "expectation",
    "check_name",
    "column_name",
    "severity",
    "window_name",
    "period_start",
    "period_end",
    "commune_code",
    "element_count",
    "unexpected_count",
    "affected_count",
    "observed_value",
    "threshold",
    "success",
    "failing_key",
    "failing_codes",
    "expectation_kwargs",
    "error",
)


@dataclass
class CheckResult:
    """One evaluated expectation, as stored in dq.validation_results."""

    checkpoint: str
    suite: str
    expectation: str
    check_name: str
    severity: str  # block | warn
    success: bool
    column_name: str | None = None
    window_name: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    commune_code: str | None = None
    element_count: int | None = None
    unexpected_count: int | None = None
    affected_count: int | None = None
    observed_value: float | None = None
    threshold: float | None = None
    failing_key: str | None = None
    failing_codes: list[str] = field(default_factory=list)
    expectation_kwargs: dict[str, Any] | None = None
    error: str | None = None

    @property
    def blocking_failure(self) -> bool:
        return self.severity == "block" and not self.success


def ensure_schema(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('motcua.dq_schema'))")
        conn.execute(SCHEMA_SQL)


# What runs that ended without releasing their rows left: rows staged by a
# session that no longer exists (the run was killed), or by this session for
# another run. A run in flight keeps its session open, so its rows stay.
SWEEP_CONTACTS_SQL = """
delete from dq.contact_dossiers as c
where
    (c.staged_by = pg_backend_pid() and c.run_id <> %(run_id)s)
    or not exists (select from pg_stat_activity as a where a.pid = c.staged_by)
"""

# The rules behind the flags live in dbt (int_onestop__dossier_facts); a
# missing flag counts as missing contact data, as the GX suite always read it.
STAGE_CONTACTS_SQL = """
insert into dq.contact_dossiers (
    run_id, window_name, commune_code, dossier_code, address_present, phone_valid, email_valid
)
select
    %(run_id)s,
    %(window_name)s,
    coalesce(f.commune_code, '(none)'),
    f.dossier_code,
    coalesce(f.address_present, false),
    coalesce(f.phone_valid, false),
    coalesce(f.email_valid, false)
from marts.fct_dossier as f
where f.received_date between %(window_start)s and %(window_end)s
"""


def stage_contacts(conn: psycopg.Connection, run_id: str, windows: Iterable[Window]) -> int:
    """Copy the run's contact rows into ``dq.contact_dossiers`` once; return how many.

    One range read of ``marts.fct_dossier`` per window, so that the contact
    checkpoint's batches (one per window and commune, several metric queries
    each) read only their own rows through the index instead of re-running
    the join over the whole window every time. One statement per window with
    its dates as values, not a join to a table of windows: the planner then
    sees the range and reads it through the received_date index; joined, it
    guessed half the table and scanned all of it (docs/benchmarks.md).
    ``conn`` in autocommit mode (it ends with a VACUUM); release_contacts
    deletes the rows. First deletes what killed runs left (SWEEP_CONTACTS_SQL):
    a run that never reached its release must not leave rows for good.
    """
    staged = 0
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(SWEEP_CONTACTS_SQL, {"run_id": run_id})
        if cur.rowcount:
            log.info("deleted %d contact rows left by runs that did not end", cur.rowcount)
        for w in windows:
            cur.execute(
                STAGE_CONTACTS_SQL,
                {
                    "run_id": run_id,
                    "window_name": w.name,
                    "window_start": w.start,
                    "window_end": w.end,
                },
            )
            staged += cur.rowcount
    # GX lists the batches again before each one, with a DISTINCT over the whole
    # asset (not filtered by run): once vacuumed, that is an index-only scan
    # instead of hashing every row (and the deleted rows of earlier runs go).
    conn.execute("vacuum (analyze) dq.contact_dossiers")
    return staged


def release_contacts(conn: psycopg.Connection, run_id: str) -> None:
    """Delete the run's staged contact rows (its results stay in dq.validation_results)."""
    conn.execute("delete from dq.contact_dossiers where run_id = %s", (run_id,))


def store_results(
    conn: psycopg.Connection,
    run_id: str,
    run_date: date,
    checked_at: datetime,
    results: Sequence[CheckResult],
) -> int:
    """Append the run's results in one transaction; return the number of rows."""
    rows = [
        (
            run_id,
            run_date,
            checked_at,
            r.checkpoint,
            r.suite,
            r.expectation,
            r.check_name,
            r.column_name,
            r.severity,
            r.window_name,
            r.period_start,
            r.period_end,
            r.commune_code,
            r.element_count,
            r.unexpected_count,
            r.affected_count,
            r.observed_value,
            r.threshold,
            r.success,
            r.failing_key,
            list(r.failing_codes),
            json.dumps(r.expectation_kwargs, default=str) if r.expectation_kwargs else None,
            r.error,
        )
        for r in results
    ]
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            f"insert into dq.validation_results ({', '.join(COLUMNS)}) values ({placeholders})",
            rows,
        )
    return len(rows)


def commune_names(conn: psycopg.Connection, codes: Sequence[str], run_date: date) -> dict[str, str]:
    """Names of the communes as valid on the run date, from marts.dim_commune (if built)."""
    if not codes:
        return {}
    try:
        with conn.transaction():
            found = conn.execute("select to_regclass('marts.dim_commune')").fetchone()
            if not found or found[0] is None:
                return {}
            rows = conn.execute(
                """
                select distinct on (commune_code) commune_code, commune_name
                from marts.dim_commune
                where commune_code = any(%s)
                order by commune_code, (valid_from <= %s) desc, valid_from desc
                """,
                (list(codes), run_date),
            ).fetchall()
    except psycopg.errors.UndefinedColumn:
        return {}
    return {str(code): str(name) for code, name in rows if name is not None}
