"""The ``small`` preset read back independently and compared with its manifest."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import zipfile
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from motcua_dev.generator import write_small
from tests.dev.generator.inbox_check import (
    ONESTOP,
    SURVEY,
    keyed,
    late_rate,
    lateness,
    latest_states,
    onestop_reason,
    read_table,
    satisfaction,
    survey_counts,
    survey_reason,
)

Inbox = tuple[Path, dict[str, Any]]


def units_of(manifest: dict[str, Any]) -> set[str]:
    return {u["code"] for u in manifest["units"]}


def digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes(small_inbox: Inbox, tmp_path: Path) -> None:
    root, _ = small_inbox
    write_small(tmp_path / "again")
    assert digest_tree(tmp_path / "again") == digest_tree(root)


def test_workbooks_carry_no_wall_clock(small_inbox: Inbox) -> None:
    root, _ = small_inbox
    books = sorted(root.rglob("*.xlsx"))
    assert books
    for book in books:
        with zipfile.ZipFile(book) as archive:
            core = archive.read("docProps/core.xml").decode()
            assert {i.date_time for i in archive.infolist()} == {(2017, 7, 14, 0, 0, 0)}
        created = re.search(r"<dcterms:created[^>]*>([^<]*)<", core)
        modified = re.search(r"<dcterms:modified[^>]*>([^<]*)<", core)
        assert created and modified and created.group(1) == modified.group(1)


def test_other_seed_gives_other_data(small_inbox: Inbox, tmp_path: Path) -> None:
    root, manifest = small_inbox
    other = write_small(tmp_path / "other", seed=8)

    def pinned(m: dict[str, Any]) -> list[dict[str, Any]]:
        # The pinned measures do not depend on the seed (contact fields are drawn).
        return [
            {k: v for k, v in r.items() if k != "contact"}
            for r in m["expected"]["commune_lateness"]
        ]

    assert pinned(other) == pinned(manifest)
    assert digest_tree(tmp_path / "other") != digest_tree(root)


def test_every_variant_is_present(small_inbox: Inbox) -> None:
    _, manifest = small_inbox
    seen: dict[tuple[str, str], set[Any]] = defaultdict(set)
    for f in manifest["files"]:
        for key, value in f["variant"].items():
            seen[(f["source"], key)].add(value)
    for source in ("onestop", "survey"):
        assert seen[(source, "container")] == {"csv-utf8", "csv-utf8-bom", "csv-win1258", "xlsx"}
        assert seen[(source, "normalization")] == {"NFC", "NFD", "cp1258"}
        assert seen[(source, "column_order")] == {"canonical", "shuffled"}
        assert seen[(source, "extras")] == {"none", "stt", "stt+notes"}
        assert seen[(source, "header_style")] == {"canonical", "upper", "lower", "padded", "title"}
        assert {"crlf", "lf"} <= seen[(source, "line_ending")]
    assert seen[("onestop", "channel_style")] == {"words", "codes", "mixed"}
    assert seen[("onestop", "date_style")] == {"date", "minutes", "seconds"}
    assert seen[("onestop", "unit_name_style")] == {"full", "short"}
    assert seen[("survey", "answer_style")] == {"numbers", "labels", "mixed"}
    names = [f["path"] for f in manifest["files"]]
    assert any(n.endswith("_bosung.csv") or n.endswith("_bosung.xlsx") for n in names)
    assert any("_1." in n for n in names) and any("_2." in n for n in names)
    assert any(f["rows"] == 0 for f in manifest["files"])  # header-only export on a holiday
    assert manifest["totals"]["onestop"]["tie_rows"] > 0
    assert manifest["totals"]["survey"]["duplicate_rows"] > 0


def test_files_decode_as_their_variant_says(small_inbox: Inbox) -> None:
    root, manifest = small_inbox
    contract = {"onestop": set(ONESTOP), "survey": set(SURVEY)}
    for f in manifest["files"]:
        variant = f["variant"]
        table = read_table(root / f["path"])
        expected_encoding = variant["encoding"] or "xlsx"
        assert table.encoding == expected_encoding, f["path"]
        keys = [unicodedata.normalize("NFC", h).strip().casefold() for h in table.raw_header]
        assert contract[f["source"]] <= set(keys), f["path"]
        if variant["extras"] != "none":
            assert keys[0] == "stt"
        assert len(table.rows) == f["rows"]
        if variant["normalization"] == "NFD" and table.raw_text:
            assert "\u0300" in table.raw_text or "\u0301" in table.raw_text
        if expected_encoding == "cp1258":
            raw = (root / f["path"]).read_bytes()
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        if variant["line_ending"] == "lf":
            assert "\r\n" not in table.raw_text
        elif variant["line_ending"] == "crlf":
            assert table.raw_text.endswith("\r\n")


def test_quarantine_counts_match_an_independent_check(small_inbox: Inbox) -> None:
    root, manifest = small_inbox
    units = units_of(manifest)
    for f in manifest["files"]:
        table = read_table(root / f["path"])
        if f["source"] == "onestop":
            reasons = [onestop_reason(r, units) for r in keyed(table, ONESTOP)]
        else:
            reasons = [survey_reason(r, units) for r in keyed(table, SURVEY)]
        found = Counter(r for r in reasons if r)
        assert sum(found.values()) == f["quarantine_rows"], f["path"]
        assert dict(found) == f["quarantine_by_reason"], f["path"]
    by_reason = manifest["totals"]["onestop"]["quarantine_by_reason"]
    assert set(by_reason) == {
        "empty_code",
        "unknown_unit",
        "bad_date",
        "unknown_status",
        "due_missing",
        "due_before_received",
        "result_before_received",
        "result_status_without_date",
    }
    assert set(manifest["totals"]["survey"]["quarantine_by_reason"]) == {"unknown_unit", "bad_year"}


def test_dossiers_per_commune_and_final_states(small_inbox: Inbox) -> None:
    root, manifest = small_inbox
    dossiers, _ = latest_states(root / "onestop", units_of(manifest))
    for code, stats in manifest["communes"].items():
        mine = [d for d in dossiers.values() if d.unit == code]
        assert len(mine) == stats["dossiers"], code
        assert Counter(d.status for d in mine) == Counter(
            {k: v for k, v in stats["by_status"].items() if v}
        )
        assert sum(d.address_present for d in mine) == stats["address_present"]
        assert sum(d.phone_valid for d in mine) == stats["phone_valid"]
        assert sum(d.email_valid for d in mine) == stats["email_valid"]
        assert (
            sum(d.address_present and d.phone_valid and d.email_valid for d in mine)
            == stats["contact_complete"]
        )


def test_pinned_lateness_is_exact(small_inbox: Inbox) -> None:
    root, manifest = small_inbox
    dossiers, _ = latest_states(root / "onestop", units_of(manifest))
    rows = manifest["expected"]["commune_lateness"]
    assert len(rows) == 4
    for row in rows:
        start, end = date.fromisoformat(row["period_start"]), date.fromisoformat(row["period_end"])
        cutoff = date.fromisoformat(row["cutoff"])
        mine = [d for d in dossiers.values() if d.unit == row["commune_code"]]
        got = lateness(mine, start, end, cutoff)
        for key, value in got.items():
            assert row[key] == value, (row["commune_code"], key)
        for key in (
            "received_total",
            "resolved_total",
            "in_progress_total",
            "late_total",
            "carried_over",
            "withdrawn_or_refused",
            "late_without_apology",
        ):
            assert row[key] == got[key], (row["commune_code"], key)
        assert row["late_rate"] == late_rate(got)
    by_code = {r["commune_code"]: r for r in rows}
    # Plain arithmetic from the scenario in presets.small_scenario():
    assert (by_code["22570"]["late_rate"], by_code["22570"]["over_threshold"]) == (10.0, False)
    assert (by_code["22534"]["late_rate"], by_code["22534"]["over_threshold"]) == (16.0, True)
    assert (by_code["22597"]["late_rate"], by_code["22597"]["over_threshold"]) == (0.0, False)
    assert by_code["22528"]["cutoff"] == "2017-04-28"  # the run month is cut at the run date
    assert (by_code["22528"]["late_rate"], by_code["22528"]["over_threshold"]) == (12.5, True)
    assert by_code["22570"]["received_total"] == 30 - 3 + 2
    assert by_code["22570"]["late_without_apology"] == 2


def test_reception_and_contact_figures_of_every_period(small_inbox: Inbox) -> None:
    root, manifest = small_inbox
    dossiers, _ = latest_states(root / "onestop", units_of(manifest))
    contact = {
        (r["commune_code"], r["period_type"], r["period_start"]): r
        for r in manifest["expected"]["commune_contact_completeness"]
    }
    for row in manifest["expected"]["commune_received"]:
        start, end = date.fromisoformat(row["period_start"]), date.fromisoformat(row["period_end"])
        mine = [
            d
            for d in dossiers.values()
            if d.unit == row["commune_code"] and start <= d.received <= end
        ]
        got = lateness(mine, start, end, end)
        for key in (
            "received_total",
            "received_online",
            "received_direct",
            "received_postal",
            "withdrawn_or_refused",
            "received_outside_one_stop",
        ):
            assert row[key] == got[key], (row, key)
        c = contact[(row["commune_code"], row["period_type"], row["period_start"])]
        assert c["dossiers"] == len(mine)
        assert c["address_present"] == sum(d.address_present for d in mine)
        assert c["phone_valid"] == sum(d.phone_valid for d in mine)
        assert c["email_valid"] == sum(d.email_valid for d in mine)
        assert c["contact_complete"] == sum(
            d.address_present and d.phone_valid and d.email_valid for d in mine
        )


def test_survey_cells_match_manifest_and_pins(small_inbox: Inbox) -> None:
    root, manifest = small_inbox
    cells = survey_counts(root, units_of(manifest))
    expected = {
        (r["commune_code"], r["survey_year"], r["agency_type"]): r
        for r in manifest["expected"]["commune_satisfaction"]
    }
    assert set(cells) == set(expected)
    for cell, counts in cells.items():
        row = expected[cell]
        assert counts == row["answer_counts"], cell
        assert row["responses"] == sum(counts["access"])
        assert row["satisfaction_index"] == satisfaction(counts), cell
        assert row["reliable"] == (row["responses"] >= 30)
    for pin in manifest["scenario"]["surveys"]:
        cell = (pin["commune_code"], pin["year"], pin["agency"])
        assert cells[cell] == pin["counts"]
    # Hand-computed from presets.small_scenario():
    assert expected[("22570", 2016, "UBND")]["satisfaction_index"] == 71.53
    assert expected[("22570", 2016, "UBND")]["rating"] == "Khá"
    assert expected[("22534", 2016, "UBND")]["satisfaction_index"] == 61.11
    assert expected[("22534", 2016, "UBND")]["rating"] == "Trung bình"
    tay_2017 = expected[("22534", 2017, "UBND")]
    assert (tay_2017["satisfaction_index"], tay_2017["reliable"], tay_2017["meets_target"]) == (
        75.0,
        False,
        False,
    )
    hung_2017 = expected[("22597", 2017, "UBND")]
    assert hung_2017["idx_feedback"] is None
    assert (hung_2017["satisfaction_index"], hung_2017["rating"], hung_2017["meets_target"]) == (
        80.0,
        "Tốt",
        True,
    )


def test_manifest_is_plain_json_with_documented_keys(small_inbox: Inbox) -> None:
    root, manifest = small_inbox
    assert set(manifest) == {
        "generator",
        "manifest_version",
        "preset",
        "seed",
        "start",
        "end",
        "run_date",
        "units",
        "config",
        "totals",
        "files",
        "communes",
        "scenario",
        "expected",
        "story",
    }
    assert manifest["run_date"] == "2017-04-28"
    text = (root / "manifest.json").read_text(encoding="utf-8")
    assert json.loads(text) == manifest


@pytest.mark.parametrize("seed", [101, 202])
def test_pins_are_exact_for_other_seeds(seed: int, tmp_path: Path) -> None:
    manifest = write_small(tmp_path, seed=seed)
    dossiers, _ = latest_states(tmp_path / "onestop", units_of(manifest))
    for row in manifest["expected"]["commune_lateness"]:
        mine = [d for d in dossiers.values() if d.unit == row["commune_code"]]
        got = lateness(
            mine,
            date.fromisoformat(row["period_start"]),
            date.fromisoformat(row["period_end"]),
            date.fromisoformat(row["cutoff"]),
        )
        assert {k: row[k] for k in got} == dict(got), row["commune_code"]
        assert late_rate(got) == row["late_rate"]
