"""``MOTCUA_PROVINCE``: the quality alert speaks of that province's communes only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from motcua.alerts import alert_quality
from motcua.reference import scope
from tests.alerts.samples import RUN_DATE, citizen_free_summary


def with_hanoi_commune() -> dict[str, Any]:
    """The sample findings (Khánh Hòa, 56) plus one of Phường Phúc Xá (Hà Nội, 01)."""
    summary = citizen_free_summary()
    hanoi = {**summary["communes"][0], "commune_code": "00001", "commune_name": "Phường Phúc Xá"}
    return {**summary, "communes": [*summary["communes"], hanoi]}


def test_unset_restricts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(scope.PROVINCE_ENV, raising=False)
    summary = with_hanoi_commune()
    assert scope.restrict_quality_summary(summary) == summary


@pytest.mark.parametrize(
    ("province", "kept"), [("56", ["22534", "22537", "22552"]), ("01", ["00001"])]
)
def test_the_province_keeps_its_communes(
    monkeypatch: pytest.MonkeyPatch, province: str, kept: list[str]
) -> None:
    monkeypatch.setenv(scope.PROVINCE_ENV, province)
    restricted = scope.restrict_quality_summary(with_hanoi_commune())
    assert sorted(c["commune_code"] for c in restricted["communes"]) == kept
    assert restricted["pipeline_findings"] == with_hanoi_commune()["pipeline_findings"]


def test_a_malformed_province_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(scope.PROVINCE_ENV, "Khánh Hòa")
    with pytest.raises(SystemExit, match="2 digits"):
        scope.province_filter()


def test_the_alert_counts_the_province_only(
    monkeypatch: pytest.MonkeyPatch, clean_alert_env: Path
) -> None:
    monkeypatch.setenv(scope.PROVINCE_ENV, "01")
    result = alert_quality(with_hanoi_commune(), RUN_DATE)
    assert (result["sent"], result["communes"]) == (True, 1)
