"""The HTTP API connector against the simulator over loopback and a real PostgreSQL.

Every count is exact: the simulator serves 25 dossiers (pages of 10, 10, 5)
and counts the requests it saw; the client's sleeps are recorded, not slept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import subprocess
import sys
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any
from urllib.request import Request, urlopen

import psycopg
import pytest

from motcua import pipeline
from motcua.ingest import loader
from motcua.sources import api
from motcua.sources.api import SOURCE_TZ, ApiError, RetryPolicy
from motcua_dev.simulator import Simulator

RUN_DATE = date(2026, 1, 15)
FAST = RetryPolicy(attempts=4, timeout=5.0, backoff=0.01, max_backoff=0.05)
OVERLAP = api.DEFAULT_OVERLAP
PERSONAL = ("Người Thử Nghiệm", "0900", "@example.vn", "đường Mẫu")


def do_pull(
    conn: psycopg.Connection,
    sim: Simulator,
    sleeps: list[float] | None = None,
    **kwargs: Any,
) -> api.PullOutcome:
    kwargs.setdefault("page_size", 10)
    kwargs.setdefault("retry", FAST)
    batch_id = loader.start_batch(conn, RUN_DATE, None)
    return api.pull(
        conn,
        batch_id,
        sim.base_url,
        sleep=(sleeps if sleeps is not None else []).append,
        rng=random.Random(1),
        **kwargs,
    )


def post(sim: Simulator, path: str, doc: Any) -> Any:
    request = Request(
        sim.base_url + path,
        data=json.dumps(doc).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=5) as response:
        return json.load(response)


def served(sim: Simulator) -> list[dict[str, str]]:
    return [item for _key, item in sim.store.listing(None)]


def stamp(item: dict[str, str]) -> datetime:
    parsed = api.parse_updated(item["Cập nhật lúc"])
    assert parsed is not None
    return parsed


def raw_count(conn: psycopg.Connection) -> int:
    return conn.execute("select count(*) from raw.onestop_rows").fetchone()[0]


def file_count(conn: psycopg.Connection) -> int:
    return conn.execute("select count(*) from raw.load_files").fetchone()[0]


def watermark(conn: psycopg.Connection) -> datetime | None:
    return api.read_watermark(conn, api.DEFAULT_SOURCE_NAME)


def states(conn: psycopg.Connection) -> set[tuple[str, str]]:
    rows = conn.execute("select dossier_code, updated_at from raw.onestop_rows").fetchall()
    return {(code, updated) for code, updated in rows}


def test_full_pull_loads_exactly_the_served_items(conn, sim):
    items = served(sim)
    outcome = do_pull(conn, sim)

    assert (outcome.status, outcome.rows_read, outcome.pages, outcome.requests) == (
        "loaded",
        25,
        3,
        3,
    )
    assert (outcome.items_received, outcome.repeated_in_pull, outcome.already_loaded) == (25, 0, 0)
    assert sim.stats()["requests"] == 3
    assert raw_count(conn) == 25
    assert states(conn) == {(i["Mã hồ sơ"], i["Cập nhật lúc"]) for i in items}

    # one pseudo-file, hashed over the canonical JSON of its items
    (file_name, fmt, rows_read, sha, status), *rest = conn.execute(
        "select file_name, file_format, rows_read, sha256, status from raw.load_files"
    ).fetchall()
    assert rest == []
    expected_sha = hashlib.sha256(
        ("[" + ",".join(api.canonical(i) for i in items) + "]").encode()
    ).hexdigest()
    assert (fmt, rows_read, sha, status) == ("api-json", 25, expected_sha, "loaded")
    assert file_name == outcome.file_name
    assert file_name.startswith("api_onestop_") and file_name.endswith("Z.json")

    # every contract header landed in its column, row numbers follow the pages
    first = items[0]
    row = conn.execute(
        "select row_number, dossier_code, unit_code, unit_name, procedure_name, channel,"
        " received_at, due_at, status, applicant_name, phone, email, updated_at, row_error"
        " from raw.onestop_rows where dossier_code = %s",
        (first["Mã hồ sơ"],),
    ).fetchone()
    assert row == (
        1,
        first["Mã hồ sơ"],
        first["Mã đơn vị"],
        first["Tên đơn vị"],
        first["Tên thủ tục"],
        first["Kênh nộp"],
        first["Ngày tiếp nhận"],
        first["Ngày hẹn trả"],
        first["Trạng thái"],
        first["Họ tên người nộp"],
        first["Số điện thoại"] or None,
        first["Email"] or None,
        first["Cập nhật lúc"],
        None,
    )
    assert conn.execute("select max(row_number) from raw.onestop_rows").fetchone()[0] == 25
    assert watermark(conn) == max(stamp(i) for i in items)


def test_second_pull_without_changes_adds_nothing(conn, sim, caplog):
    caplog.set_level(logging.DEBUG, logger="motcua")
    do_pull(conn, sim)
    mark = watermark(conn)
    assert mark is not None
    in_overlap = [i for i in served(sim) if stamp(i) >= mark - OVERLAP]

    outcome = do_pull(conn, sim)

    assert outcome.status == "duplicate"
    assert (outcome.rows_read, outcome.items_received, outcome.already_loaded) == (
        0,
        len(in_overlap),
        len(in_overlap),
    )
    assert outcome.requests == 1
    assert (raw_count(conn), file_count(conn), watermark(conn)) == (25, 1, mark)
    assert not any(p in caplog.text for p in PERSONAL)


def test_lost_watermark_repull_adds_nothing(conn, sim):
    do_pull(conn, sim)
    conn.execute("delete from raw.api_watermarks")

    outcome = do_pull(conn, sim)

    assert (outcome.status, outcome.items_received, outcome.already_loaded) == (
        "duplicate",
        25,
        25,
    )
    assert (raw_count(conn), file_count(conn)) == (25, 1)


def test_changed_items_are_pulled_by_watermark(conn, sim):
    do_pull(conn, sim)
    codes = [i["Mã hồ sơ"] for i in served(sim)[3:6]]
    answer = post(
        sim, "/_items", {"items": [{"Mã hồ sơ": c, "Trạng thái": "Dừng xử lý"} for c in codes]}
    )
    assert answer["upserted"] == 3

    outcome = do_pull(conn, sim)

    assert (outcome.status, outcome.rows_read) == ("loaded", 3)
    assert raw_count(conn) == 28
    rows = conn.execute(
        "select dossier_code, status, updated_at from raw.onestop_rows where file_id = %s"
        " order by row_number",
        (outcome.file_id,),
    ).fetchall()
    assert sorted(rows) == sorted(
        (c, "Dừng xử lý", s) for c, s in zip(codes, answer["stamps"], strict=True)
    )
    newest = max(api.parse_updated(s) for s in answer["stamps"])
    assert watermark(conn) == newest

    # and once more: those three are not loaded twice
    again = do_pull(conn, sim)
    assert (again.status, again.rows_read, again.items_received, again.already_loaded) == (
        "duplicate",
        0,
        3,
        3,
    )
    assert (raw_count(conn), file_count(conn)) == (28, 2)


def test_duplicates_across_pages_are_loaded_once(conn, sim):
    post(sim, "/_faults", {"duplicate_across_pages": True})

    outcome = do_pull(conn, sim)

    # pages of 10, 11 and 6: pages 2 and 3 repeat the item before them
    assert (outcome.items_received, outcome.repeated_in_pull, outcome.rows_read) == (27, 2, 25)
    assert sim.stats()["requests"] == 3
    assert raw_count(conn) == 25
    assert conn.execute(
        "select count(distinct (dossier_code, updated_at)) from raw.onestop_rows"
    ).fetchone() == (25,)


def test_rate_limit_500s_and_a_timeout_are_retried(conn, sim, caplog):
    caplog.set_level(logging.DEBUG, logger="motcua")
    post(
        sim,
        "/_faults",
        {
            "rate_limit_every": 2,
            "retry_after": 1,
            "error_500_every": 3,
            "timeout_every": 7,
            "timeout_seconds": 3,
        },
    )
    sleeps: list[float] = []
    retry = RetryPolicy(attempts=6, timeout=0.5, backoff=0.01, max_backoff=0.05)

    outcome = do_pull(conn, sim, sleeps, retry=retry)

    # request: 1 p1 ok | 2 p2 429, 3 500, 4 429, 5 ok | 6 p3 500, 7 timeout, 8 429, 9 500,
    # 10 429, 11 ok
    stats = sim.stats()
    assert stats["requests"] == 11
    assert stats["outcomes"] == {"200": 3, "429": 4, "500": 3, "timeout": 1}
    assert outcome.requests == 11
    assert (outcome.status, outcome.rows_read, outcome.pages) == ("loaded", 25, 3)
    assert raw_count(conn) == 25
    # every retry waited; the four 429s at least their Retry-After of 1 s
    assert len(sleeps) == 8
    assert len([s for s in sleeps if s >= 1.0]) == 4
    assert all(s <= 0.05 for s in sleeps if s < 1.0)
    assert not any(p in caplog.text for p in PERSONAL)


def test_retry_after_longer_than_allowed_fails_at_once(conn, sim):
    post(sim, "/_faults", {"rate_limit_every": 1, "retry_after": 3600})

    with pytest.raises(ApiError, match=r"retry after 3600s, more than the allowed 600s"):
        do_pull(conn, sim)

    assert sim.stats()["requests"] == 1
    assert (raw_count(conn), file_count(conn), watermark(conn)) == (0, 0, None)


def test_persistent_500_fails_clearly_and_commits_nothing(conn, sim):
    do_pull(conn, sim)
    mark = watermark(conn)
    codes = [i["Mã hồ sơ"] for i in served(sim)[:3]]
    post(sim, "/_items", {"items": [{"Mã hồ sơ": c, "Trạng thái": "Đã rút"} for c in codes]})
    post(sim, "/_faults", {"error_500_on_page": 2})

    with pytest.raises(ApiError) as info:
        do_pull(conn, sim, page_size=2)

    message = str(info.value)
    assert f"{sim.base_url}/api/v1/dossiers?changed_since=" in message
    assert "page=2&page_size=2" in message
    assert "(page 2) failed after 4 attempts: HTTP 500" in message
    assert sim.stats()["requests"] == 1 + 4  # page 1 once, page 2 four times
    assert (raw_count(conn), file_count(conn), watermark(conn)) == (25, 1, mark)

    # the next night, with the server healthy again, the three changes arrive
    post(sim, "/_faults", {})
    outcome = do_pull(conn, sim, page_size=2)
    assert (outcome.status, outcome.rows_read, raw_count(conn)) == ("loaded", 3, 28)


def test_malformed_json_fails_clearly_and_commits_nothing(conn, sim):
    post(sim, "/_faults", {"malformed_json_on_page": 2})

    with pytest.raises(ApiError, match=r"\(page 2\): response is not valid JSON") as info:
        do_pull(conn, sim)

    assert "page=2&page_size=10" in str(info.value)
    assert "Người" not in str(info.value)  # says where, never what
    assert sim.stats()["requests"] == 2  # not retried
    assert (raw_count(conn), file_count(conn), watermark(conn)) == (0, 0, None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"data": []}', "'items' is missing"),
        (b'{"items": {"a": 1}}', "'items' is an object, not a list"),
        (b"[]", "response is a list, not an object"),
        (b"\xff\xfe{", "not"),
    ],
)
def test_page_without_items_list_is_a_clear_error(body, message):
    with pytest.raises(ApiError, match=r"GET http://x/api \(page 3\)") as info:
        api._parse_page(body, "http://x/api", 3)
    assert message in str(info.value)


def test_client_error_is_not_retried_and_token_comes_from_env(conn, monkeypatch):
    with Simulator(count=5, token="s3cret") as sim:
        with pytest.raises(ApiError, match=r"\(page 1\) failed: HTTP 401") as info:
            do_pull(conn, sim, token="wrong")
        assert "not retried" in str(info.value)
        assert sim.stats()["requests"] == 1

        monkeypatch.setenv("MOTCUA_API_TOKEN", "s3cret")
        outcome = do_pull(conn, sim)
        assert (outcome.status, outcome.rows_read) == ("loaded", 5)
    assert raw_count(conn) == 5


def test_odd_items_are_kept_with_a_reason_and_not_repeated(conn, sim):
    do_pull(conn, sim)
    odd = [
        ["a", "list"],
        "text",
        42,
        {"Mã hồ sơ": "SIM-ODD-1", "Mã đơn vị": 22570},
        {" mã hồ sơ": "SIM-ODD-2", "CẬP NHẬT LÚC ": "01/02/2017 08:00:00", "STT": "9"},
        {"Mã đơn vị": "22570"},
        {},
        {"Mã hồ sơ": "SIM-ODD-3", "Mã Hồ Sơ": "other", "Cập nhật lúc": "02/02/2017 08:00:00"},
    ]
    stamps = post(sim, "/_items", {"items": odd})["stamps"]

    outcome = do_pull(conn, sim)

    assert (outcome.rows_read, outcome.blank_items) == (7, 1)
    rows = conn.execute(
        "select dossier_code, unit_code, updated_at, row_error, raw_record"
        " from raw.onestop_rows where file_id = %s order by row_number",
        (outcome.file_id,),
    ).fetchall()
    by_record = {tuple(r[4] or ()): r for r in rows}
    assert by_record[('["a","list"]',)][3] == "API item is a list, not a JSON object"
    assert by_record[('"text"',)][3] == "API item is a string, not a JSON object"
    assert by_record[("42",)][3] == "API item is a number, not a JSON object"
    assert by_record[('{"Mã đơn vị":"22570"}',)][:4] == (None, "22570", None, None)
    keyed = {r[0]: r[:4] for r in rows if r[4] is None}
    assert keyed == {
        "SIM-ODD-1": ("SIM-ODD-1", "22570", stamps[3], None),
        "SIM-ODD-2": ("SIM-ODD-2", None, "01/02/2017 08:00:00", None),
    }
    odd3 = [r for r in rows if r[0] in ("SIM-ODD-3", "other")]
    assert len(odd3) == 1
    assert odd3[0][3] == "API item has key 'Mã hồ sơ' twice (differently written)"
    assert raw_count(conn) == 25 + 7

    # served again: all but SIM-ODD-3, whose own stamp (2017) is before the watermark
    again = do_pull(conn, sim)
    assert (again.status, again.rows_read, again.items_received, again.blank_items) == (
        "duplicate",
        0,
        7,
        1,
    )
    assert again.already_loaded == 6
    assert raw_count(conn) == 32


def test_a_change_during_the_pull_holds_the_watermark(conn, sim):
    """Offset pagination over a changing listing skips an item; the next pull gets it."""
    items = served(sim)
    post(sim, "/_faults", {"change_during_pull_after_page": 1})

    outcome = do_pull(conn, sim)

    # item 1 changed after page 1 and moved to the end: page 2 started one item
    # later, so item 11 was never served; item 1 was served twice (two states)
    skipped = items[10]
    assert (outcome.items_received, outcome.rows_read) == (25, 25)
    assert outcome.watermark_held is True
    assert skipped["Mã hồ sơ"] not in {code for code, _ in states(conn)}
    assert watermark(conn) == stamp(items[0])

    after = do_pull(conn, sim)

    assert (after.rows_read, after.items_received, after.already_loaded) == (1, 25, 24)
    assert raw_count(conn) == 26
    assert (skipped["Mã hồ sơ"], skipped["Cập nhật lúc"]) in states(conn)
    assert conn.execute("select count(distinct dossier_code) from raw.onestop_rows").fetchone() == (
        25,
    )


def test_a_second_pull_at_the_same_time_is_refused(conn, sim, fresh_db_url):
    with psycopg.connect(fresh_db_url, autocommit=True) as other:
        other.execute("select pg_advisory_lock(hashtext('motcua.api:onestop_api'))")
        with pytest.raises(ApiError, match="another pull of 'onestop_api' is running"):
            do_pull(conn, sim)
    assert sim.stats()["requests"] == 0
    assert do_pull(conn, sim).rows_read == 25


def test_pipeline_pull_api(conn, sim, fresh_db_url, monkeypatch):
    monkeypatch.setenv("MOTCUA_API_PAGE_SIZE", "10")
    monkeypatch.setenv("MOTCUA_API_INITIAL_SINCE", "2017-01-05")

    result = pipeline.pull_api(fresh_db_url, sim.base_url, RUN_DATE)

    expected = [i for i in served(sim) if stamp(i) >= datetime(2017, 1, 5, tzinfo=SOURCE_TZ)]
    (outcome,) = result["files"]
    assert (outcome["status"], outcome["rows_read"], outcome["pages"]) == (
        "loaded",
        len(expected),
        -(-len(expected) // 10),
    )
    assert outcome["watermark_before"] == "2017-01-05T00:00:00+07:00"
    batch = conn.execute(
        "select run_date, finished_at is not null from raw.load_batches where batch_id = %s",
        (result["batch_id"],),
    ).fetchone()
    assert batch == (RUN_DATE, True)
    json.dumps(result)  # JSON-ready for the DAG's XCom


def test_settings_from_env(monkeypatch):
    for name, value in {
        "MOTCUA_API_TOKEN": "t",
        "MOTCUA_API_PAGE_SIZE": "250",
        "MOTCUA_API_TIMEOUT": "12.5",
        "MOTCUA_API_MAX_ATTEMPTS": "3",
        "MOTCUA_API_OVERLAP_MINUTES": "0",
        "MOTCUA_API_INITIAL_SINCE": "2018-07-01T00:00:00+00:00",
    }.items():
        monkeypatch.setenv(name, value)
    settings = api.settings_from_env()
    assert settings["token"] == "t"
    assert settings["page_size"] == 250
    assert (settings["retry"].timeout, settings["retry"].attempts) == (12.5, 3)
    assert settings["overlap"] == timedelta(0)
    assert settings["initial_since"] == datetime(2018, 7, 1, 7, tzinfo=SOURCE_TZ)
    monkeypatch.setenv("MOTCUA_API_PAGE_SIZE", "many")
    with pytest.raises(ValueError, match="MOTCUA_API_PAGE_SIZE must be a int"):
        api.settings_from_env()


def test_retry_after_header_forms():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=SOURCE_TZ)
    assert api._retry_after_seconds("7", now) == 7.0
    assert api._retry_after_seconds("Thu, 01 Jan 2026 05:00:30 GMT", now) == 30.0
    assert api._retry_after_seconds("soon", now) is None
    assert api._retry_after_seconds(None, now) is None


def test_simulator_runs_as_a_module():
    process = subprocess.Popen(
        [sys.executable, "-m", "motcua_dev.simulator", "--port", "0", "--items", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("serving 3 dossiers on http://127.0.0.1:")
        url = line.split(" on ", 1)[1].split()[0]
        with urlopen(url + "?page_size=2", timeout=5) as response:
            doc = json.load(response)
        assert (len(doc["items"]), doc["total_pages"], doc["next_page"]) == (2, 2, 2)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_pull_outcome_is_file_outcome_shaped():
    fields = set(asdict(api.PullOutcome("onestop", "f", "loaded")))
    assert set(asdict(loader.FileOutcome("onestop", "f", "loaded"))) <= fields


def test_unreachable_server_is_retried_then_a_clear_error(conn):
    with Simulator(count=1) as gone:
        base_url = gone.base_url
    sleeps: list[float] = []
    batch_id = loader.start_batch(conn, RUN_DATE, None)

    with pytest.raises(ApiError, match=r"\(page 1\) failed after 3 attempts: connection error"):
        api.pull(
            conn,
            batch_id,
            base_url,
            retry=RetryPolicy(attempts=3, timeout=2, backoff=0.01),
            sleep=sleeps.append,
        )

    assert len(sleeps) == 2
    assert (raw_count(conn), file_count(conn), watermark(conn)) == (0, 0, None)
    with pytest.raises(ValueError, match="must be http"):
        api.pull(conn, batch_id, "ftp://example.vn")


def test_optional_766_columns_absent_empty_or_given_per_item(conn, sim):
    """A missing key of an optional 766 column is not supplied (null), a key with a null or
    empty value is supplied and empty (''), a value is kept as served."""
    do_pull(conn, sim)
    items = [
        {"Mã hồ sơ": "SIM-766-1", "Mã đơn vị": "22570", "Kết quả điện tử": "Có",
         "Phí, lệ phí": "50.000", "Đánh giá": "Hài lòng"},
        {"Mã hồ sơ": "SIM-766-2", "Mã đơn vị": "22570", "kết quả điện tử": None,
         "Số hóa hồ sơ": ""},
        {"Mã hồ sơ": "SIM-766-3", "Mã đơn vị": "22570"},
    ]  # fmt: skip
    post(sim, "/_items", {"items": items})
    outcome = do_pull(conn, sim)
    rows = conn.execute(
        "select dossier_code, e_result, digitised, fee, paid_online, rating"
        " from raw.onestop_rows where file_id = %s order by dossier_code",
        (outcome.file_id,),
    ).fetchall()
    assert rows == [
        ("SIM-766-1", "Có", None, "50.000", None, "Hài lòng"),
        ("SIM-766-2", "", "", None, None, None),
        ("SIM-766-3", None, None, None, None, None),
    ]
