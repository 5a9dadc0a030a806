"""One source for the vocabularies: the dbt seed, read by staging, GX and the generator.

The seed ``dbt_project/seeds/config/vocabularies.csv`` is the only place a
status, channel, reception place, agency or survey answer is written: no
model, macro, GX suite or generator module spells one again. (Unit-test
fixtures, descriptions and reports' column labels may, they are not rules.)
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from motcua import config, vocabularies
from motcua.quality.settings import load_settings
from motcua_dev import simulator
from motcua_dev.generator import catalog
from tests.dev.generator import inbox_check

ROOT = Path(__file__).resolve().parents[1]
DBT = config.dbt_project_dir()
VOCABULARIES = ("status", "channel", "reception_place", "agency", "survey_answer")


def every_value() -> set[str]:
    return {v for name in VOCABULARIES for v in vocabularies.values(name)}


def test_the_seed_holds_the_contract_vocabularies() -> None:
    """As the inbox checks of the generator's tests write the contract down (docs/sources.md)."""
    assert set(vocabularies.values("status")) == inbox_check.STATUSES
    assert set(vocabularies.values("status", category="result")) == inbox_check.RESULT_STATUSES
    out = vocabularies.values("status", category="withdrawn_or_refused")
    assert set(out) == inbox_check.OUT_STATUSES
    assert vocabularies.values("status")[:2] == ("Đã tiếp nhận", "Đang xử lý")  # the seed's order
    assert vocabularies.value("channel", "online") == "Trực tuyến"
    assert vocabularies.answer_labels() == {
        1: "Rất không hài lòng",
        2: "Không hài lòng",
        3: "Bình thường",
        4: "Hài lòng",
        5: "Rất hài lòng",
    }
    with pytest.raises(KeyError, match="no vocabulary 'colour'"):
        vocabularies.values("colour")
    with pytest.raises(KeyError, match="no role 'fax'"):
        vocabularies.value("channel", "fax")


def _quoted_values(text: str) -> set[str]:
    """The vocabulary values that ``text`` spells inside quotes."""
    return {v for v in every_value() if re.search(rf"""['"]{re.escape(v)}['"]""", text)}


@pytest.mark.parametrize(
    "path",
    [
        *sorted((DBT / "models").rglob("*.sql")),
        *sorted((DBT / "macros").glob("*.sql")),
        *sorted((DBT / "tests").rglob("*.sql")),
        *sorted((config.expectations_dir() / "gx" / "expectations").glob("*.json")),
        *sorted((ROOT / "src" / "motcua_dev" / "generator").glob("*.py")),
        ROOT / "src" / "motcua_dev" / "simulator.py",
        DBT / "models" / "marts" / "_marts__models.yml",
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_rule_spells_a_vocabulary_again(path: Path) -> None:
    assert _quoted_values(path.read_text(encoding="utf-8")) == set()


def test_the_check_above_finds_a_spelled_value() -> None:
    assert _quoted_values("status in ('Đã rút', 'x')") == {"Đã rút"}
    assert _quoted_values('"value_set": ["Trực tuyến"]') == {"Trực tuyến"}


def test_the_gx_suites_get_their_value_sets_from_the_seed() -> None:
    params = load_settings().expectation_parameters(date(2017, 7, 14))
    assert params["onestop_statuses"] == list(vocabularies.values("status"))
    assert params["survey_answer_scores"] == [1, 2, 3, 4, 5]
    wanted = set()
    for suite in (config.expectations_dir() / "gx" / "expectations").glob("*.json"):
        text = suite.read_text(encoding="utf-8")
        wanted |= set(re.findall(r'"\$PARAMETER":\s*"(\w+)"', text))
        for expectation in json.loads(text)["expectations"]:
            value_set = expectation["kwargs"].get("value_set")
            # a list written in the suite may only be a flag's [true]
            assert value_set is None or isinstance(value_set, dict) or value_set == [True]
    assert {"onestop_statuses", "survey_answer_scores"} <= wanted <= set(params)


def test_the_generator_and_the_simulator_write_the_seed_values() -> None:
    assert vocabularies.values("status") == catalog.STATUSES
    assert catalog.TERMINAL_OUT == ("Đã rút", "Từ chối tiếp nhận", "Dừng xử lý")
    assert catalog.CHANNEL_WORDS == {1: "Trực tiếp", 2: "Trực tuyến", 3: "Bưu chính công ích"}
    assert (catalog.CH_DIRECT, catalog.CH_ONLINE, catalog.CH_POSTAL) == (1, 2, 3)
    assert vocabularies.answer_labels() == catalog.ANSWER_LABELS
    assert catalog.AGENCIES == ("UBND", "Trạm y tế", "Trường học")
    assert vocabularies.values("reception_place") == (catalog.PLACE_DESK, catalog.PLACE_SPECIALIST)
    assert set(simulator.STATUSES) <= set(vocabularies.values("status"))
    assert set(simulator.CHANNELS) - {"1", "2"} == set(vocabularies.values("channel"))
