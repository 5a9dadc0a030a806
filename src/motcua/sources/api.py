"""Pull one-stop-shop dossiers from the source system's HTTP API into raw.

The API
=======

``GET {base}/api/v1/dossiers?changed_since=<ISO-8601>&page=<n>&page_size=<k>``

- ``changed_since``: ISO-8601 timestamp with an offset, e.g.
  ``2017-03-01T10:00:00+07:00``; the server returns the dossiers whose
  ``Cập nhật lúc`` is **at or after** it (inclusive). ``Cập nhật lúc`` is the
  source's local time (Asia/Ho_Chi_Minh, UTC+7, no DST), without an offset.
- ``page`` (1-based) and ``page_size`` (1..1000): offset pagination over the
  matching dossiers ordered by (``Cập nhật lúc``, ``Mã hồ sơ``) ascending.
- Optional ``Authorization: Bearer <token>`` (``MOTCUA_API_TOKEN``).

Response ``200 application/json``::

    {"items": [...], "page": n, "page_size": k, "total_pages": t,
     "next_page": n + 1 | null}

Each item is one dossier's current state: an object whose keys are the
contract headers of docs/sources.md section 1 exactly (``"Mã hồ sơ"``,
``"Mã đơn vị"``, …, ``"Cập nhật lúc"``), values strings in the formats of the
CSV exports (dates ``dd/mm/yyyy HH:MM:SS``), so the loader's ``map_header``
and the same dbt staging apply. Missing keys are null columns (for the
optional 766 columns: not supplied, while a key with a null or empty value is
supplied and empty); unknown keys are ignored. Errors: ``429`` (with
``Retry-After``) and ``5xx`` are transient, any other ``4xx`` is final.

The connector
=============

``pull(conn, batch_id, base_url)`` reads the watermark of ``source_name`` from
``raw.api_watermarks`` (none yet: ``initial_since``, 2010-01-01), fetches every
page (retrying transient failures with exponential backoff and jitter),
drops items served twice in the pull (offset pagination over a changing
dataset repeats and shifts items) and dossier states already in raw (same
``Mã hồ sơ`` + ``Cập nhật lúc``), and writes the rest through the loader's
``copy_records`` into ``raw.onestop_rows`` as ONE pseudo-file registered in
``raw.load_files`` (``api_onestop_<UTC timestamp>.json``, format
``api-json``, SHA-256 of the canonical JSON of its items), together with the
new watermark, in one transaction. A failed pull commits nothing and leaves
the watermark where it was; the next pull simply asks again.

The watermark is the largest ``Cập nhật lúc`` served (capped at the pull's
start, held back when a dossier visibly changed mid-pull), and each pull asks
from the watermark minus an overlap; why, in ``_new_watermark``. Items
without a dossier state (not an object, or lacking ``Mã hồ sơ`` or
``Cập nhật lúc``) keep their canonical JSON in ``raw_record``, which is what
recognises them on later pulls; a non-object item is a row with a
``row_error``. Items with no value at all are skipped, as blank CSV lines are.

Configuration (``settings_from_env``): ``MOTCUA_API_TOKEN``,
``MOTCUA_API_PAGE_SIZE`` (500), ``MOTCUA_API_TIMEOUT`` (seconds, 30),
``MOTCUA_API_MAX_ATTEMPTS`` (6), ``MOTCUA_API_INITIAL_SINCE`` (2010-01-01),
``MOTCUA_API_OVERLAP_MINUTES`` (10). The base URL itself is ``MOTCUA_API_URL``
(read by the DAG task).

Log lines carry counts, pages and HTTP codes only, never item contents.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import random
import ssl
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import IO, Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit, urlunsplit
from urllib.request import Request, urlopen

import psycopg

from motcua import config
from motcua.ingest import loader
from motcua.ingest.contract import ONESTOP_COLUMNS, header_key, map_header

log = logging.getLogger(__name__)

ENDPOINT = "/api/v1/dossiers"
SOURCE = "onestop"
FILE_FORMAT = "api-json"
DEFAULT_SOURCE_NAME = "onestop_api"
# The source's timestamps are Vietnamese local time; Vietnam has no DST.
SOURCE_TZ = timezone(timedelta(hours=7), "ICT")
DEFAULT_INITIAL_SINCE = datetime(2010, 1, 1, tzinfo=SOURCE_TZ)
DEFAULT_OVERLAP = timedelta(minutes=10)
MAX_PAGE_SIZE = 1000

CODE_KEY = "Mã hồ sơ"
UPDATED_KEY = "Cập nhật lúc"
CONTRACT_HEADER: list[str] = list(ONESTOP_COLUMNS)
HEADER_MAP = map_header(SOURCE, CONTRACT_HEADER)
_KEY_INDEX = {header_key(h): i for i, h in enumerate(CONTRACT_HEADER)}
_CODE_INDEX = CONTRACT_HEADER.index(CODE_KEY)
_UPDATED_INDEX = CONTRACT_HEADER.index(UPDATED_KEY)
_UPDATED_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")

# Besides timeouts and URLError: failures mid-response (reset, truncated body).
_TRANSIENT_ERRORS = (ConnectionError, http.client.HTTPException, OSError)


class ApiError(RuntimeError):
    """The API could not be read; nothing of the pull was committed."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one page before giving up (the whole pull then fails)."""

    attempts: int = 6  # requests per page, first one included
    timeout: float = 30.0  # seconds, per socket operation
    backoff: float = 1.0  # first backoff step (seconds), doubled each retry
    max_backoff: float = 60.0
    max_retry_after: float = 600.0  # a longer Retry-After fails the pull instead


@dataclass(frozen=True)
class PullOutcome:
    """A ``loader.FileOutcome`` for the pseudo-file of one pull, plus what the pull saw.

    status: ``loaded`` (rows written), ``duplicate`` (items served, all already
    in raw) or ``empty`` (nothing changed since the watermark).
    """

    source: str
    file_name: str
    status: str
    rows_read: int = 0
    file_format: str = FILE_FORMAT
    error: str | None = None
    file_id: int | None = None
    path_method: str = "api"
    source_name: str = DEFAULT_SOURCE_NAME
    pages: int = 0
    requests: int = 0
    items_received: int = 0
    repeated_in_pull: int = 0
    blank_items: int = 0
    already_loaded: int = 0
    changed_since: str = ""  # what was asked (watermark minus overlap)
    watermark_before: str = ""
    watermark_after: str = ""
    watermark_held: bool = False  # the dataset moved during the pull (see _new_watermark)


# --------------------------------------------------------------------------- HTTP


def _redact(url: str) -> str:
    """The URL without user:password@ (for messages)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class ApiClient:
    """GET pages of the dossier endpoint with retries; counts the requests it made."""

    base_url: str
    token: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    requests: int = 0

    def page_url(self, changed_since: datetime, page: int, page_size: int) -> str:
        query = urlencode(
            {
                "changed_since": changed_since.astimezone(SOURCE_TZ).isoformat(),
                "page": page,
                "page_size": page_size,
            }
        )
        return f"{self.base_url.rstrip('/')}{ENDPOINT}?{query}"

    def _backoff(self, retry_number: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        step = min(self.retry.max_backoff, self.retry.backoff * 2 ** (retry_number - 1))
        return step / 2 + self.rng.uniform(0, step / 2)

    def get_json(self, url: str, page: int) -> dict[str, Any]:
        """One page as a dict with an ``items`` list, or ApiError."""
        shown = _redact(url)
        attempts = max(1, self.retry.attempts)
        last = ""
        for attempt in range(1, attempts + 1):
            request = Request(url, headers={"Accept": "application/json"})
            request.add_header("User-Agent", "motcua-analytics")
            if self.token:
                # unredirected: a redirect to another host must not carry the token
                request.add_unredirected_header("Authorization", f"Bearer {self.token}")
            self.requests += 1
            retry_after: float | None = None
            try:
                with urlopen(request, timeout=self.retry.timeout) as response:
                    body = response.read()
            except HTTPError as exc:
                code = exc.code
                retry_after = _retry_after_seconds(exc.headers.get("Retry-After"))
                exc.close()
                if code != 429 and not 500 <= code <= 599:
                    raise ApiError(
                        f"GET {shown} (page {page}) failed: HTTP {code} {exc.reason}"
                        " (not retried: a client error will not go away by asking again)"
                    ) from None
                last = f"HTTP {code}"
            except TimeoutError:
                last = f"timed out after {self.retry.timeout:g}s"
            except URLError as exc:
                if isinstance(exc.reason, ssl.SSLCertVerificationError):
                    raise ApiError(
                        f"GET {shown} (page {page}) failed: {exc.reason.verify_message}"
                        " (TLS certificate not trusted; not retried)"
                    ) from None
                if isinstance(exc.reason, TimeoutError):
                    last = f"timed out after {self.retry.timeout:g}s"
                else:
                    last = f"connection error: {exc.reason}"
            except _TRANSIENT_ERRORS as exc:
                last = f"connection error: {type(exc).__name__}"
            else:
                return _parse_page(body, shown, page)
            if attempt == attempts:
                break
            if retry_after is not None:
                if retry_after > self.retry.max_retry_after:
                    raise ApiError(
                        f"GET {shown} (page {page}): server asks to retry after"
                        f" {retry_after:g}s, more than the allowed"
                        f" {self.retry.max_retry_after:g}s; giving up"
                    )
                # honour the server's wait; a little jitter spreads concurrent clients
                delay = retry_after + self.rng.uniform(0, self.retry.backoff / 2)
            else:
                delay = self._backoff(attempt)
            log.warning(
                "API page %d: %s; retry %d/%d in %.2fs", page, last, attempt, attempts - 1, delay
            )
            self.sleep(delay)
        raise ApiError(f"GET {shown} (page {page}) failed after {attempts} attempts: {last}")


def _parse_page(body: bytes, shown: str, page: int) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as exc:
        # the message says where, never what: the body holds personal data
        raise ApiError(
            f"GET {shown} (page {page}): response is not valid JSON"
            f" ({exc.msg} at line {exc.lineno} column {exc.colno}, {len(body)} bytes)"
        ) from None
    except UnicodeDecodeError:
        raise ApiError(
            f"GET {shown} (page {page}): response is not valid JSON"
            f" (not UTF-8 text, {len(body)} bytes)"
        ) from None
    if not isinstance(doc, dict):
        raise ApiError(f"GET {shown} (page {page}): response is {_kind(doc)}, not an object")
    if not isinstance(doc.get("items"), list):
        what = "missing" if "items" not in doc else f"{_kind(doc['items'])}, not a list"
        raise ApiError(f"GET {shown} (page {page}): 'items' is {what}")
    return doc


def _kind(value: Any) -> str:
    """'an object', 'a list', ..., 'null': what a JSON value is, for messages."""
    if value is None:
        return "null"
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return kinds.get(type(value), "a number")


# --------------------------------------------------------------------------- items


def canonical(item: Any) -> str:
    """Canonical JSON of one item: sorted keys, no spaces, UTF-8 text as is."""
    return json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return canonical(value)


def _state_key(item: Any) -> tuple[str, str] | None:
    """(Mã hồ sơ, Cập nhật lúc) of an object item having both, as served."""
    if not isinstance(item, dict):
        return None
    record, _error = to_record(item)
    code, updated = record[_CODE_INDEX], record[_UPDATED_INDEX]
    if code and code.strip() and updated and updated.strip():
        return code, updated
    return None


def parse_updated(value: Any) -> datetime | None:
    """``Cập nhật lúc`` as an aware datetime (source time zone), None if unreadable."""
    if not isinstance(value, str):
        return None
    for fmt in _UPDATED_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=SOURCE_TZ)
        except ValueError:
            continue
    return None


def to_record(item: Any) -> tuple[list[str | None], str | None]:
    """One item as a record in CONTRACT_HEADER order, and what is wrong with it.

    Keys are matched like CSV headers (case, spaces, Unicode form ignored).
    A non-object item becomes a one-field record holding its JSON, so that the
    loader keeps it in ``raw_record`` with a ``row_error``.
    """
    if not isinstance(item, dict):
        return [canonical(item)], f"API item is {_kind(item)}, not a JSON object"
    record: list[str | None] = [None] * len(CONTRACT_HEADER)
    seen: set[int] = set()
    error = None
    for key, value in item.items():
        index = _KEY_INDEX.get(header_key(str(key)))
        if index is None:
            continue
        if index in seen:
            error = f"API item has key {CONTRACT_HEADER[index]!r} twice (differently written)"
        seen.add(index)
        # a key with a null value is present and empty; a missing key stays None
        record[index] = "" if value is None else _text(value)
    return record, error


def _has_data(record: list[str | None]) -> bool:
    # the same test copy_records uses to skip blank records; applied here first
    # so that row numbers are known for the row_error fix-ups
    return any(v not in (None, "") and str(v).strip() for v in record)


# --------------------------------------------------------------------------- fetch


@dataclass
class _Fetched:
    """The distinct items of one pull, spooled to disk as canonical JSON lines."""

    spool: IO[bytes]
    pages: int = 0
    received: int = 0
    repeated: int = 0
    blank: int = 0
    distinct: int = 0
    max_updated: datetime | None = None
    moved_floor: datetime | None = None  # earliest old state of a dossier that moved

    def lines(self) -> Iterator[str]:
        self.spool.seek(0)
        for raw in self.spool:
            yield raw.decode("utf-8").rstrip("\n")


def _fetch_all(
    client: ApiClient, changed_since: datetime, page_size: int, max_pages: int, spool: IO[bytes]
) -> _Fetched:
    fetched = _Fetched(spool)
    seen: set[str | tuple[str, str]] = set()
    first_state: dict[str, str] = {}  # Mã hồ sơ -> first Cập nhật lúc served in this pull
    page = 1
    while True:
        url = client.page_url(changed_since, page, page_size)
        doc = client.get_json(url, page)
        fetched.pages += 1
        items = doc["items"]
        fetched.received += len(items)
        for item in items:
            record, _error = to_record(item)
            if not _has_data(record):
                fetched.blank += 1  # nothing to load (copy_records would skip it too)
                continue
            text = canonical(item)
            key = _state_key(item)
            ident: str | tuple[str, str] = key if key is not None else text
            if ident in seen:
                fetched.repeated += 1
                continue
            seen.add(ident)
            if key is not None:
                code, updated = key
                previous = first_state.setdefault(code, updated)
                if previous != updated:
                    # the dossier changed while we paged: it moved to the end and
                    # shifted the items after its old place one slot forward
                    old = parse_updated(previous)
                    if old is not None and (
                        fetched.moved_floor is None or old < fetched.moved_floor
                    ):
                        fetched.moved_floor = old
            stamp = parse_updated(record[_UPDATED_INDEX]) if isinstance(item, dict) else None
            if stamp is not None and (fetched.max_updated is None or stamp > fetched.max_updated):
                fetched.max_updated = stamp
            fetched.spool.write(text.encode("utf-8") + b"\n")
            fetched.distinct += 1
        next_page = doc.get("next_page")
        if next_page is None and "next_page" not in doc:
            total = doc.get("total_pages")
            next_page = page + 1 if isinstance(total, int) and page < total else None
        if next_page is None:
            break
        if not isinstance(next_page, int) or isinstance(next_page, bool) or next_page <= page:
            raise ApiError(
                f"GET {_redact(url)} (page {page}): next_page {next_page!r} does not move forward"
            )
        if fetched.pages >= max_pages:
            raise ApiError(f"GET {_redact(url)}: more than {max_pages} pages; giving up")
        page = next_page
    return fetched


# --------------------------------------------------------------------------- watermark


def read_watermark(conn: psycopg.Connection, source_name: str) -> datetime | None:
    row = conn.execute(
        "select changed_since from raw.api_watermarks where source_name = %s", (source_name,)
    ).fetchone()
    return row[0] if row else None


def _write_watermark(conn: psycopg.Connection, source_name: str, value: datetime) -> None:
    conn.execute(
        "insert into raw.api_watermarks (source_name, changed_since) values (%s, %s)"
        " on conflict (source_name) do update"
        " set changed_since = excluded.changed_since, updated_at = now()",
        (source_name, value),
    )


def _new_watermark(old: datetime, fetched: _Fetched, started_at: datetime) -> datetime:
    """Where the next pull starts (before its overlap). Never moves backwards.

    The watermark is the largest ``Cập nhật lúc`` served, not the time the
    request started:
    - it is the source's own clock, the one ``changed_since`` is compared
      with: no skew between our host and the source, and no guessing which
      local time a naive timestamp meant;
    - a start-time watermark loses any change the source stamped before our
      start but made visible after we had paged past it (long transactions,
      replica lag, a source clock behind ours); the largest value served is
      by construction something we have seen.
    It is then capped and held back so that no change is lost:
    - capped at the pull's start: one bogus future stamp (a typo'd 2099)
      must not park the watermark in the future and hide every later change;
      if the source's clock runs ahead of ours the cap only widens the overlap;
    - held at the old stamp of any dossier served twice with different
      ``Cập nhật lúc``: it changed during the pull, moved to the end of the
      ordering and shifted every later item one slot forward, so one item per
      later page boundary may never have been served. Everything before that
      old stamp was served; the next pull re-reads from there.
    And the next pull asks from the watermark minus an overlap (inclusive), so
    late-committed changes with slightly older stamps are seen too. Overlap
    is cheap: states already in raw are skipped, and dbt keeps the latest
    state per dossier anyway.
    """
    if fetched.max_updated is None:
        return old
    candidate = min(fetched.max_updated, started_at)
    if fetched.moved_floor is not None:
        candidate = min(candidate, fetched.moved_floor)
    return max(old, candidate)


# --------------------------------------------------------------------------- load


Identity = tuple[str, str] | str


def _identity(item: Any) -> Identity:
    """What makes an item "already in raw".

    A well-formed dossier state is its (Mã hồ sơ, Cập nhật lúc), wherever it
    was loaded from. Anything else (a non-object, an item without either key,
    an item with a shape error) has no state to compare: its identity is its
    canonical JSON, which the load keeps in ``raw_record`` for that purpose.
    """
    key = _state_key(item)
    if key is not None and to_record(item)[1] is None:
        return key
    return canonical(item)


def _already_in_raw(conn: psycopg.Connection, fetched: _Fetched) -> set[Identity]:
    """Items of this pull already in raw (from an earlier pull, or a file for states)."""
    conn.execute(
        "create temp table motcua_api_keys (dossier_code text, updated_at text, item_json text)"
        " on commit drop"
    )
    with conn.cursor() as cur, cur.copy("copy motcua_api_keys from stdin") as copy:
        for line in fetched.lines():
            ident = _identity(json.loads(line))
            copy.write_row((*ident, None) if isinstance(ident, tuple) else (None, None, ident))
    rows = conn.execute(
        "select k.dossier_code, k.updated_at, k.item_json from motcua_api_keys as k"
        " where (k.item_json is null and exists (select 1 from raw.onestop_rows as r"
        "   where r.dossier_code = k.dossier_code and r.updated_at = k.updated_at"
        "   and r.row_error is null))"
        " or (k.item_json is not null and exists (select 1 from raw.onestop_rows as r"
        "   where r.raw_record = array[k.item_json] and r.file_name like 'api\\_onestop\\_%'))"
    ).fetchall()
    conn.execute("drop table motcua_api_keys")
    return {
        (code, updated) if item_json is None else item_json for code, updated, item_json in rows
    }


def _new_items(fetched: _Fetched, known: set[Identity]) -> Iterator[tuple[str, Any]]:
    for line in fetched.lines():
        item = json.loads(line)
        if not known or _identity(item) not in known:
            yield line, item


def _write_rows(
    conn: psycopg.Connection,
    fetched: _Fetched,
    known: set[Identity],
    file_id: int,
    batch_id: int,
    file_name: str,
) -> int:
    fixes: list[tuple[str | None, list[str], int, int]] = []

    def records() -> Iterator[list[str | None]]:
        number = 0
        for line, item in _new_items(fetched, known):
            record, error = to_record(item)
            if not _has_data(record):
                continue
            number += 1
            if error or _state_key(item) is None:
                fixes.append((error, [line], file_id, number))
            yield record

    count = loader.copy_records(
        conn, records(), HEADER_MAP, file_id, batch_id, file_name, none_is_absent=True
    )
    if fixes:
        # copy_records only knows CSV-shaped problems: say what is wrong with the item,
        # and keep the JSON of every item that has no dossier state (its identity)
        with conn.cursor() as cur:
            cur.executemany(
                "update raw.onestop_rows set row_error = coalesce(%s, row_error),"
                " raw_record = %s where file_id = %s and row_number = %s",
                fixes,
            )
    return count


def pull(
    conn: psycopg.Connection,
    batch_id: int,
    base_url: str,
    *,
    source_name: str = DEFAULT_SOURCE_NAME,
    page_size: int = 500,
    now: datetime | None = None,
    token: str | None = None,
    retry: RetryPolicy | None = None,
    initial_since: datetime = DEFAULT_INITIAL_SINCE,
    overlap: timedelta = DEFAULT_OVERLAP,
    max_pages: int = 100_000,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> PullOutcome:
    """Pull what changed since the watermark into raw, in one transaction.

    ``conn`` must be in autocommit mode (as ``pipeline.connect`` gives): the
    pull opens its own transaction for the write. ``now`` (aware) is the
    pull's start time, injectable for tests. ``token`` defaults to
    ``MOTCUA_API_TOKEN``. Raises ApiError when the API cannot be read; then
    nothing was written and the watermark is unchanged.
    """
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
        raise ValueError(
            f"the API base URL must be http(s)://host[:port][/prefix], got {base_url!r}"
        )
    if not conn.autocommit:
        raise ValueError("api.pull needs an autocommit connection (it manages its transaction)")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
    started_at = now or datetime.now(UTC)
    if started_at.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if token is None:
        token = config.api_token()
    client = ApiClient(base_url, token, retry or RetryPolicy(), sleep, rng or random.Random())

    lock_key = f"motcua.api:{source_name}"
    got = conn.execute("select pg_try_advisory_lock(hashtext(%s))", (lock_key,)).fetchone()
    if not got or not got[0]:
        raise ApiError(f"another pull of {source_name!r} is running; try again later")
    # items are spooled to disk past 32 MiB: a first pull since 2010 may be large
    spool = tempfile.SpooledTemporaryFile(max_size=32 << 20, mode="w+b")  # noqa: SIM115
    try:
        before = read_watermark(conn, source_name) or initial_since
        since = before - overlap
        fetched = _fetch_all(client, since, page_size, max_pages, spool)
        after = _new_watermark(before, fetched, started_at)
        file_name = f"api_onestop_{started_at.astimezone(UTC):%Y%m%dT%H%M%SZ}.json"
        status = "duplicate" if fetched.distinct else "empty"
        rows, file_id = 0, None
        with conn.transaction():
            known = _already_in_raw(conn, fetched) if fetched.distinct else set()
            digest = hashlib.sha256(b"[")
            new = 0
            for line, _item in _new_items(fetched, known):
                digest.update((b"," if new else b"") + line.encode("utf-8"))
                new += 1
            digest.update(b"]")
            sha256 = digest.hexdigest()
            if new and not loader._already_loaded(conn, SOURCE, sha256):
                file_id = loader._register(conn, batch_id, SOURCE, file_name, sha256, FILE_FORMAT)
                rows = _write_rows(conn, fetched, known, file_id, batch_id, file_name)
                conn.execute(
                    "update raw.load_files set rows_read = %s where file_id = %s",
                    (rows, file_id),
                )
                status = "loaded"
            # always written: updated_at then tells when the last pull succeeded
            _write_watermark(conn, source_name, after)
    finally:
        spool.close()
        if not conn.broken:  # a lost session has released its locks already
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (lock_key,))
    result = PullOutcome(
        source=SOURCE,
        file_name=file_name,
        status=status,
        rows_read=rows,
        file_id=file_id,
        source_name=source_name,
        pages=fetched.pages,
        requests=client.requests,
        items_received=fetched.received,
        repeated_in_pull=fetched.repeated,
        blank_items=fetched.blank,
        already_loaded=len(known),
        changed_since=since.astimezone(SOURCE_TZ).isoformat(),
        watermark_before=before.astimezone(SOURCE_TZ).isoformat(),
        watermark_after=after.astimezone(SOURCE_TZ).isoformat(),
        watermark_held=fetched.moved_floor is not None,
    )
    log.info(
        "API pull %s: %d pages, %d requests, %d items (%d repeated across pages,"
        " %d already in raw), %d rows loaded; watermark %s -> %s%s",
        source_name,
        result.pages,
        result.requests,
        result.items_received,
        result.repeated_in_pull,
        result.already_loaded,
        result.rows_read,
        result.watermark_before,
        result.watermark_after,
        " (held: the data moved during the pull)" if result.watermark_held else "",
    )
    return result


# --------------------------------------------------------------------------- settings


def parse_since(value: str) -> datetime:
    """``YYYY-MM-DD`` or an ISO-8601 timestamp; naive means source local time."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"MOTCUA_API_INITIAL_SINCE must be YYYY-MM-DD or ISO-8601, got {value!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SOURCE_TZ)
    return parsed


def settings_from_env() -> dict[str, Any]:
    """``pull`` keyword arguments from the ``MOTCUA_API_*`` settings (``motcua.config``)."""
    env = config.api_settings()
    settings: dict[str, Any] = {
        "token": env.token,
        "page_size": env.page_size,
        "retry": RetryPolicy(
            attempts=env.max_attempts or RetryPolicy.attempts,
            timeout=env.timeout or RetryPolicy.timeout,
        ),
        "overlap": timedelta(
            minutes=DEFAULT_OVERLAP.total_seconds() / 60
            if env.overlap_minutes is None
            else env.overlap_minutes
        ),
    }
    if env.initial_since:
        settings["initial_since"] = parse_since(env.initial_since)
    return settings
