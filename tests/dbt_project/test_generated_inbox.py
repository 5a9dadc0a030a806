"""End to end with the sample generator: inbox → loader → dbt → known answers.

``motcua_dev.generator`` writes a contract-conforming inbox (every file variant,
junk rows, re-deliveries, ties) with the figures docs/rules.md gives for it in
``manifest.json``; after loading it and building the project, every expected
mart cell must hold exactly those figures.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from motcua import pipeline
from motcua_dev.generator import write_small
from tests.dbt_project import index766_reference
from tests.dbt_project.conftest import Warehouse, assert_built

pytestmark = pytest.mark.slow

# expected section -> (mart, key columns); columns absent from the mart are not compared
CELLS = {
    "commune_lateness": ("commune_lateness", ("commune_code", "period_type", "period_start")),
    "commune_received": ("commune_lateness", ("commune_code", "period_type", "period_start")),
    "commune_contact_completeness": (
        "commune_contact_completeness",
        ("commune_code", "period_type", "period_start"),
    ),
    "district_lateness": ("district_lateness", ("district_code", "period_type", "period_start")),
    "commune_satisfaction": (
        "commune_satisfaction",
        ("commune_code", "survey_year", "agency_type"),
    ),
    "district_satisfaction": (
        "district_satisfaction",
        ("district_code", "survey_year", "agency_type"),
    ),
}


def same(expected: Any, actual: Any) -> bool:
    if isinstance(actual, Decimal | float) or isinstance(expected, float):
        if expected is None or actual is None:
            return expected is actual
        return Decimal(str(expected)) == Decimal(str(actual))
    if isinstance(actual, date):
        return actual.isoformat() == expected
    return expected == actual


@pytest.fixture(scope="module")
def built(empty_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict:
    inbox = tmp_path_factory.mktemp("inbox")
    manifest = write_small(inbox)
    run_date = date.fromisoformat(manifest["run_date"])
    pipeline.ingest_inbox(empty_warehouse.url, Path(inbox), run_date)
    assert_built(empty_warehouse.dbt("build", run_date=manifest["run_date"]))
    return manifest


@pytest.mark.parametrize("section", sorted(CELLS))
def test_marts_hold_the_known_answers(
    empty_warehouse: Warehouse, built: dict, section: str
) -> None:
    mart, keys = CELLS[section]
    expected_cells = built["expected"][section]
    if section != "district_lateness":
        assert expected_cells, f"the generator pinned no {section}"
    assert wrong_cells(empty_warehouse, section, mart, keys, expected_cells) == []


def wrong_cells(
    warehouse: Warehouse,
    section: str,
    mart: str,
    keys: tuple[str, ...],
    expected_cells: list[dict[str, Any]],
) -> list[tuple[Any, ...]]:
    """The cells whose mart row differs from the manifest (each must have exactly one row)."""
    wrong: list[tuple[Any, ...]] = []
    for cell in expected_cells:
        where = " and ".join(f"{k}::text = %({k})s" for k in keys)
        rows = warehouse.rows(
            f"select * from marts.{mart} where {where}", **{k: str(cell[k]) for k in keys}
        )
        assert len(rows) == 1, (section, [cell[k] for k in keys], len(rows))
        wrong += [
            (section, [cell[k] for k in keys], column, value, rows[0][column])
            for column, value in cell.items()
            if column in rows[0] and not same(value, rows[0][column])
        ]
    return wrong


def test_every_loaded_row_is_accounted_for(empty_warehouse: Warehouse, built: dict) -> None:
    rows = empty_warehouse.rows(
        """select file_name, rows_read, rows_loaded, rows_quarantined
           from ops.file_reconciliation
           where status = 'loaded' and rows_read <> rows_loaded + rows_quarantined"""
    )
    assert rows == []
    (totals,) = empty_warehouse.rows(
        """select sum(rows_quarantined) filter (where source = 'onestop') as onestop,
                  sum(rows_quarantined) filter (where source = 'survey') as survey
           from ops.file_reconciliation"""
    )
    assert (totals["onestop"], totals["survey"]) == (
        built["totals"]["onestop"]["quarantine_rows"],
        built["totals"]["survey"]["quarantine_rows"],
    )


def test_personal_data_and_texts_as_delivered_stay_with_quarantined_rows_only(
    empty_warehouse: Warehouse, built: dict
) -> None:
    # a valid row goes on with its typed values and contact checks only
    kept = "raw_record, unit_name, channel_text, status_text, received_at_text, due_at_text,"
    kept += " result_at_text, returned_at_text, apology_at_text, apology_due_at_text,"
    kept += " updated_at_text, applicant_name, address, phone, email"
    (counts,) = empty_warehouse.rows(
        f"""select count(*) filter (where is_valid) as valid,
                   count(*) filter (where is_valid and num_nonnulls({kept}) > 0)
                       as valid_with_texts,
                   count(*) filter (where not is_valid) as quarantined
            from intermediate.int_onestop__rows_checked"""
    )
    onestop = built["totals"]["onestop"]
    assert counts == {
        "valid": onestop["rows"] - onestop["quarantine_rows"],
        "valid_with_texts": 0,
        "quarantined": onestop["quarantine_rows"],
    }
    # the quarantine still shows every value delivered (NFC, trimmed): every
    # quarantined row is compared with its raw row, none lost a value
    (compared,) = empty_warehouse.rows(
        """select count(*) as rows_compared,
                  count(*) filter (
                      where (nullif(btrim(r.address), '') is not null and q.address is null)
                      or (nullif(btrim(r.phone), '') is not null and q.phone is null)
                      or (nullif(btrim(r.email), '') is not null and q.email is null)
                      or (nullif(btrim(r.applicant_name), '') is not null
                          and q.applicant_name is null)
                      or (nullif(btrim(r.received_at), '') is not null and q.received_at is null)
                      or (nullif(btrim(r.status), '') is not null and q.status is null)
                  ) as rows_with_a_value_lost
           from quarantine.onestop_rows as q
           inner join raw.onestop_rows as r
               on q.file_id = r.file_id and q.row_number = r.row_number"""
    )
    assert compared == {
        "rows_compared": onestop["quarantine_rows"],
        "rows_with_a_value_lost": 0,
    }


def test_index766_equals_an_independent_computation(
    empty_warehouse: Warehouse, built: dict
) -> None:
    """Every computed indicator of every commune with dossiers, in every period, and the
    scorecard's totals and ranks, equal the plain-Python computation of
    ``index766_reference``; the inbox mixes files with and without the optional
    columns (2016 files never, 2017 files mostly, some without Đánh giá)."""
    carrying = [f for f in built["files"] if f.get("optional_columns")]
    assert carrying and len(carrying) < sum(f["source"] == "onestop" for f in built["files"])
    assert any(len(f["optional_columns"]) == 4 for f in carrying)
    dossiers = index766_reference.current_dossiers(
        empty_warehouse.rows(index766_reference.ROWS_SQL)
    )
    run_date = date.fromisoformat(built["run_date"])
    expected = index766_reference.expected_index(dossiers, run_date)
    communes = sorted({key[0] for key in expected})
    actual = {
        (r["commune_code"], r["period_type"], r["period_start"].isoformat(), r["indicator_code"]): {
            k: r[k]
            for k in ("numerator", "denominator", "rate", "points", "is_applicable", "reason")
        }
        for r in empty_warehouse.rows(
            """select * from marts.commune_index_766
               where commune_code = any(%(communes)s)
                 and indicator_code in ('progress_on_time', 'online_share', 'direct_share',
                     'postal_share', 'e_result', 'digitised', 'online_payment',
                     'handling_satisfaction')""",
            communes=communes,
        )
    }
    assert actual.keys() == expected.keys()
    wrong = {key: (expected[key], actual[key]) for key in expected if expected[key] != actual[key]}
    assert wrong == {}
    # some periods' resolved dossiers all come from files without Đánh giá
    reasons = {row["reason"] for row in expected.values()}
    assert {"ratings not supplied: from lateness alone", None} <= reasons
    scorecards = empty_warehouse.rows(
        """select commune_code, period_type, period_start, points_total, rank_in_province
           from marts.commune_scorecard_766 where commune_code = any(%(communes)s)""",
        communes=communes,
    )
    totals: dict[tuple[str, str, str], Decimal] = {}
    for (commune, period_type, start, _), row in expected.items():
        if row["points"] is not None:
            key = (commune, period_type, start)
            totals[key] = totals.get(key, Decimal(0)) + row["points"]
    for card in scorecards:
        key = (card["commune_code"], card["period_type"], card["period_start"].isoformat())
        assert card["points_total"] == totals.get(key), key
        better = {
            other
            for other, total in totals.items()
            if other[1:] == key[1:] and key in totals and total > totals[key]
        }
        assert card["rank_in_province"] == (len(better) + 1 if key in totals else None), key
