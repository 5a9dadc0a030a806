"""SIGKILL in the middle of a file, run again: the same warehouse as one clean run."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.ingest.test_loader import HEADER

ROWS = 300_000

CONTENT_SQL = """
select md5(string_agg(t::text, '|' order by file_name, row_number)), count(*)
from (select file_name, row_number, row_error, raw_record, dossier_code, unit_code,
             received_at, status, updated_at, address, email
      from raw.onestop_rows) as t
"""
FILES_SQL = "select source, file_name, sha256, status, rows_read from raw.load_files order by 2"


def write_inbox(inbox: Path) -> None:
    (inbox / "onestop").mkdir(parents=True)
    with (inbox / "onestop" / "hoso_20170101.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(ROWS):
            writer.writerow(
                [
                    i,
                    f"H-{i:07d}",
                    "22570",
                    "01/02/2017",
                    "Đã tiếp nhận",
                    "01/02/2017 08:00:00",
                    f"Thôn {i % 97}, Ninh Đa",
                    "a@example.vn",
                ]
            )
    (inbox / "onestop" / "hoso_20170102.csv").write_text(
        ",".join(HEADER) + "\n1,H-X,22570,02/02/2017,Đã tiếp nhận,02/02/2017 08:00:00,,\n",
        encoding="utf-8",
    )


def load_cmd(inbox: Path, url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "motcua",
        "load",
        "--inbox",
        str(inbox),
        "--url",
        url,
        "--run-date",
        "2017-07-14",
    ]


def wait_for_copy_progress(url: str, minimum: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "select coalesce(max(tuples_processed), 0) from pg_stat_progress_copy"
            ).fetchone()
            if row and row[0] >= minimum:
                return int(row[0])
            time.sleep(0.01)
    raise AssertionError("the load never reached the middle of the file")


@pytest.mark.slow
def test_sigkill_mid_file_then_rerun_equals_clean_run(tmp_path: Path, admin_url: str) -> None:
    from tests.conftest import create_database, drop_database

    clean_url = create_database(admin_url)
    killed_url = create_database(admin_url)
    try:
        clean_inbox, killed_inbox = tmp_path / "clean", tmp_path / "killed"
        write_inbox(clean_inbox)
        shutil.copytree(clean_inbox, killed_inbox)
        subprocess.run(load_cmd(clean_inbox, clean_url), check=True, capture_output=True)

        proc = subprocess.Popen(
            load_cmd(killed_inbox, killed_url),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seen = wait_for_copy_progress(killed_url, minimum=20_000)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL and 20_000 <= seen < ROWS
        with psycopg.connect(killed_url, autocommit=True) as conn:
            assert conn.execute("select count(*) from raw.onestop_rows").fetchone() == (0,)
        # the killed file is still waiting in the inbox
        assert (killed_inbox / "onestop" / "hoso_20170101.csv").exists()

        subprocess.run(load_cmd(killed_inbox, killed_url), check=True, capture_output=True)
        with psycopg.connect(clean_url) as a, psycopg.connect(killed_url) as b:
            clean_content = a.execute(CONTENT_SQL).fetchone()
            assert clean_content is not None and clean_content[1] == ROWS + 1
            assert b.execute(CONTENT_SQL).fetchone() == clean_content
            assert b.execute(FILES_SQL).fetchall() == a.execute(FILES_SQL).fetchall()
        assert sorted(p.name for p in (killed_inbox / "archive" / "onestop").iterdir()) == [
            "hoso_20170101.csv",
            "hoso_20170102.csv",
        ]
    finally:
        drop_database(admin_url, clean_url)
        drop_database(admin_url, killed_url)
