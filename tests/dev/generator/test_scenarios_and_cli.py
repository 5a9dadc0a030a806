"""Scenarios from JSON on arbitrary units, through the command line, checked from the files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from motcua_dev.generator import GeneratorConfig, LatenessPin, Scenario, ScenarioError, generate
from motcua_dev.generator.__main__ import main
from tests.dev.generator.inbox_check import late_rate, lateness, latest_states

UNITS_CSV = "commune_code,commune_name\n30001,Xã Thử Nghiệm\n30004,Phường Mẫu\n"


def scenario_json() -> dict:
    return {
        "name": "custom",
        "lateness": [
            {
                "commune_code": "30001",
                "period_start": "2017-03-01",
                "period_end": "2017-03-31",
                "resolved_early": 4,
                "resolved_on_time": 20,
                "resolved_late": 3,
                "in_progress_on_time": 2,
                "in_progress_overdue": 1,
                "withdrawn_or_refused": 2,
                "carried_over": 5,
                "received_online": 4,
                "received_postal": 2,
                "late_with_apology": 2,
                "received_outside_one_stop": 3,
            }
        ],
        "surveys": [
            {
                "commune_code": "30004",
                "year": 2017,
                "agency": "Trường học",
                "counts": {
                    k: [1, 0, 1, 4, 10, 4]
                    for k in ("access", "procedure", "staff", "result", "feedback")
                },
            }
        ],
    }


def test_generate_command_with_a_scenario_file(tmp_path: Path) -> None:
    units = tmp_path / "units.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(scenario_json()), encoding="utf-8")
    out = tmp_path / "inbox"
    code = main(
        [
            "generate",
            "--out",
            str(out),
            "--start",
            "2017-01-15",
            "--end",
            "2017-05-31",
            "--units-csv",
            str(units),
            "--scenario",
            str(scenario),
            "--dossiers-per-unit-day",
            "2",
            "--seed",
            "11",
        ]
    )
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_date"] == "2017-05-31"
    dossiers, _ = latest_states(out / "onestop", {"30001", "30004"})
    mine = [d for d in dossiers.values() if d.unit == "30001"]
    got = lateness(mine, date(2017, 3, 1), date(2017, 3, 31), date(2017, 3, 31))
    # 30 resolved or in progress, 4 late: 13.33 %; received = 30 - 5 carried + 2 withdrawn.
    assert late_rate(got) == 13.33
    assert (got["received_total"], got["carried_over"], got["withdrawn_or_refused"]) == (27, 5, 2)
    assert (got["received_online"], got["received_postal"], got["received_direct"]) == (4, 2, 21)
    assert (got["late_without_apology"], got["received_outside_one_stop"]) == (2, 3)
    [row] = manifest["expected"]["commune_lateness"]
    assert row["late_rate"] == 13.33 and row["over_threshold"] is True
    survey = next(
        r
        for r in manifest["expected"]["commune_satisfaction"]
        if r["commune_code"] == "30004" and r["agency_type"] == "Trường học"
    )
    assert survey["responses"] == 20 and survey["satisfaction_index"] == 73.68  # 14/19


def test_scenario_json_round_trip(tmp_path: Path) -> None:
    scenario = Scenario.from_dict(scenario_json())
    scenario.dump(tmp_path / "s.json")
    assert Scenario.load(tmp_path / "s.json") == scenario
    assert scenario.lateness[0].late_rate() == 13.33


@pytest.mark.parametrize(
    "pin",
    [
        LatenessPin("22570", date(2017, 1, 1), date(2017, 1, 31), carried_over=1),
        LatenessPin(
            "22570", date(2017, 1, 1), date(2017, 1, 31), resolved_late=1, late_with_apology=2
        ),
        LatenessPin("99999", date(2017, 1, 1), date(2017, 1, 31)),
    ],
)
def test_inconsistent_scenarios_are_refused(pin: LatenessPin, tmp_path: Path) -> None:
    cfg = GeneratorConfig(
        out_dir=tmp_path,
        start=date(2017, 1, 1),
        end=date(2017, 2, 28),
        unit_codes=("22570",),
        scenario=Scenario(lateness=(pin,)),
    )
    with pytest.raises(ScenarioError):
        generate(cfg)


def test_preset_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["small", "--out", str(tmp_path / "s")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["run_date"] == "2017-04-28" and summary["onestop_quarantine_rows"] > 0
    assert main(["bench", "--rows", "100", "--out", str(tmp_path / "b.csv")]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 100
    assert (
        main(
            [
                "generate",
                "--out",
                str(tmp_path / "x"),
                "--start",
                "2017-02-01",
                "--end",
                "2017-01-01",
            ]
        )
        == 2
    )


@pytest.mark.parametrize(
    ("start", "end", "last_day", "seed"),
    [
        (date(2016, 12, 1), date(2016, 12, 31), date(2017, 2, 10), 1),  # ends on a Saturday
        (date(2017, 4, 1), date(2017, 4, 30), date(2017, 5, 6), 2),  # Sunday end, holidays
        (date(2017, 1, 1), date(2017, 3, 31), date(2017, 3, 25), 3),  # run date: a Saturday
        (date(2017, 1, 16), date(2017, 2, 10), date(2017, 2, 28), 4),  # across Tết
    ],
)
def test_pins_hold_on_awkward_calendars(
    start: date, end: date, last_day: date, seed: int, tmp_path: Path
) -> None:
    pin = LatenessPin(
        "22597",
        start,
        end,
        resolved_early=3,
        resolved_on_time=5,
        resolved_late=4,
        in_progress_on_time=3,
        in_progress_overdue=3,
        withdrawn_or_refused=2,
        carried_over=4,
        received_online=2,
        received_postal=1,
        late_with_apology=3,
        received_outside_one_stop=2,
    )
    cfg = GeneratorConfig(
        out_dir=tmp_path,
        start=date(2016, 11, 1),
        end=last_day,
        seed=seed,
        unit_codes=("22597", "22600"),
        dossiers_per_unit_day=1.5,
        surveys=False,
        invalid_rate=0.05,
        tie_share=0.05,
        scenario=Scenario(lateness=(pin,)),
    )
    manifest = generate(cfg)
    [row] = manifest["expected"]["commune_lateness"]
    dossiers, _ = latest_states(tmp_path / "onestop", {"22597", "22600"})
    mine = [d for d in dossiers.values() if d.unit == "22597"]
    got = lateness(mine, start, end, date.fromisoformat(row["cutoff"]))
    for key in (
        "received_total",
        "received_online",
        "received_postal",
        "carried_over",
        "resolved_early",
        "resolved_on_time",
        "resolved_late",
        "in_progress_on_time",
        "in_progress_overdue",
        "withdrawn_or_refused",
        "late_total",
        "late_without_apology",
        "received_outside_one_stop",
    ):
        assert got[key] == row[key], key
    assert late_rate(got) == row["late_rate"] == 38.89  # 7 late of 18
