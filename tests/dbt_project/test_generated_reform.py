"""End to end across the 1/7/2025 reform: the ``reform`` preset, exact figures on both bases.

Six Ninh Hòa communes with their legacy codes from 2024 to 30/6/2025, then
the two units they became, which reuse the codes 22552 and 22528, to
31/3/2026. Loaded with no setting and built as of the run date, the marts
must hold the manifest's figures: as received per unit version (legacy
cells with the legacy names, 2025 cells with the new ones), today's units
(commune_lateness_current: a 2025 unit with its predecessors' H1 2025
dossiers) and the province.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from motcua import pipeline
from motcua_dev.generator.reform import write_reform
from tests.dbt_project.conftest import Warehouse, assert_built
from tests.dbt_project.test_generated_inbox import CELLS as SAMPLE_CELLS
from tests.dbt_project.test_generated_inbox import wrong_cells

pytestmark = pytest.mark.slow

# a code names two units in 2025 (the legacy one to 30/6, the new one from 1/7): the
# commune cells are keyed by name too
BY_NAME = ("commune_code", "commune_name", "period_type", "period_start")
CELLS = {
    **SAMPLE_CELLS,
    "commune_lateness": ("commune_lateness", BY_NAME),
    "commune_received": ("commune_lateness", BY_NAME),
    "commune_contact_completeness": ("commune_contact_completeness", BY_NAME),
    "commune_lateness_current": (
        "commune_lateness_current",
        ("commune_code", "period_type", "period_start"),
    ),
    "province_lateness": ("province_lateness", ("province_code", "period_type", "period_start")),
}


@pytest.fixture(scope="module")
def built(empty_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict:
    inbox = tmp_path_factory.mktemp("reform_inbox")
    manifest = write_reform(inbox)
    run_date = date.fromisoformat(manifest["run_date"])
    pipeline.ingest_inbox(empty_warehouse.url, Path(inbox), run_date)
    assert_built(empty_warehouse.dbt("build", run_date=manifest["run_date"]))
    return manifest


@pytest.mark.parametrize("section", sorted(CELLS))
def test_marts_hold_the_known_answers_on_both_bases(
    empty_warehouse: Warehouse, built: dict, section: str
) -> None:
    mart, keys = CELLS[section]
    expected_cells = built["expected"][section]
    assert expected_cells, f"the reform preset pinned no {section}"
    assert wrong_cells(empty_warehouse, section, mart, keys, expected_cells) == []


def test_a_reused_code_names_the_unit_of_its_date(empty_warehouse: Warehouse, built: dict) -> None:
    rows = empty_warehouse.rows(
        """select distinct commune_name, district_code, province_name
           from marts.commune_lateness
           where commune_code = '22552' and received_total > 0 order by commune_name"""
    )
    assert [tuple(r.values()) for r in rows] == [
        ("Xã Ninh Sim", "572", "Tỉnh Khánh Hòa"),
        ("Xã Tây Ninh Hòa", None, "Tỉnh Khánh Hòa"),
    ]


def test_every_valid_row_loads_with_no_setting(empty_warehouse: Warehouse, built: dict) -> None:
    (totals,) = empty_warehouse.rows(
        """select sum(rows_quarantined) filter (where source = 'onestop') as onestop,
                  sum(rows_quarantined) filter (where source = 'survey') as survey
           from ops.file_reconciliation"""
    )
    assert (totals["onestop"], totals["survey"]) == (
        built["totals"]["onestop"]["quarantine_rows"],
        built["totals"]["survey"]["quarantine_rows"],
    )
    # the generator's junk rows with a code that names no unit, and nothing else
    unknown = empty_warehouse.rows(
        "select source, sum(quarantined_rows)::int as n from ops.unknown_unit_codes"
        " group by source order by source"
    )
    expected = {
        source: sum(
            run["totals"][source]["quarantine_by_reason"].get("unknown_unit", 0)
            for run in built["runs"].values()
        )
        for source in ("onestop", "survey")
    }
    assert {r["source"]: r["n"] for r in unknown} == {k: v for k, v in expected.items() if v}


def test_todays_units_only_in_the_current_mart(empty_warehouse: Warehouse, built: dict) -> None:
    rows = empty_warehouse.rows(
        """select distinct commune_code, commune_name from marts.commune_lateness_current
           where received_total > 0 order by commune_code"""
    )
    assert [tuple(r.values()) for r in rows] == [
        ("22528", "Phường Ninh Hòa"),
        ("22552", "Xã Tây Ninh Hòa"),
    ]
