"""The default sample tells the story of letter 2114/UBND, checked from the files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from tests.dev.generator.inbox_check import (
    late_rate,
    lateness,
    latest_states,
    satisfaction,
    survey_counts,
)

Inbox = tuple[Path, dict[str, Any]]
LETTER_SEVEN = {
    "Ninh Thủy",
    "Ninh Diêm",
    "Ninh Thọ",
    "Ninh Hưng",
    "Ninh Trung",
    "Ninh Tây",
    "Ninh Sim",
}


def short(name: str) -> str:
    return name.split(" ", 1)[1]


def test_size_and_run_date(sample_inbox: Inbox) -> None:
    _, manifest = sample_inbox
    assert (manifest["start"], manifest["end"], manifest["run_date"]) == (
        "2016-01-01",
        "2017-07-14",
        "2017-07-14",
    )
    assert len(manifest["units"]) == 27
    assert 10_000 <= manifest["totals"]["onestop"]["rows"] <= 20_000


def test_h1_2017_lateness_names_the_letters_seven(sample_inbox: Inbox) -> None:
    root, manifest = sample_inbox
    names = {u["code"]: u["name"] for u in manifest["units"]}
    dossiers, _ = latest_states(root / "onestop", set(names))
    rates = {}
    for code in names:
        mine = [d for d in dossiers.values() if d.unit == code]
        rates[code] = late_rate(
            lateness(mine, date(2017, 1, 1), date(2017, 6, 30), date(2017, 6, 30))
        )
    over = {short(names[c]) for c, r in rates.items() if r is not None and r > 10}
    assert over == LETTER_SEVEN
    exactly = [short(names[c]) for c, r in rates.items() if r == 10.0]
    assert exactly == ["Ninh Đa"]
    expected = {r["commune_code"]: r["late_rate"] for r in manifest["expected"]["commune_lateness"]}
    assert expected == rates
    [district] = manifest["expected"]["district_lateness"]
    assert district["communes_over_threshold"] == 7
    assert set(manifest["story"]["h1_2017"]["over_threshold"]) == {
        c for c, r in rates.items() if r > 10
    }


def test_ubnd_satisfaction_2016_and_2017(sample_inbox: Inbox) -> None:
    root, manifest = sample_inbox
    names = {u["code"]: u["name"] for u in manifest["units"]}
    cells = survey_counts(root, set(names))
    for year, town, average in (
        (2016, 72.12, {"Ninh Tây", "Ninh Thượng", "Ninh Hưng"}),
        (2017, 75.5, {"Ninh Tây", "Ninh Hưng"}),
    ):
        pooled = {k: [0] * 6 for k in ("access", "procedure", "staff", "result", "feedback")}
        band = set()
        for (code, y, agency), counts in cells.items():
            if y != year or agency != "UBND":
                continue
            for key, values in counts.items():
                pooled[key] = [a + b for a, b in zip(pooled[key], values, strict=True)]
            index = satisfaction(counts)
            assert index is not None
            if 50 <= index < 70:
                band.add(short(names[code]))
        assert satisfaction(pooled) == town
        assert band == average
        row = next(
            r
            for r in manifest["expected"]["district_satisfaction"]
            if r["survey_year"] == year and r["agency_type"] == "UBND"
        )
        assert row["satisfaction_index"] == town and row["meets_target"] is False
