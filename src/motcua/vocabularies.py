"""The controlled vocabularies of the sources, from their one source: the dbt seed.

``dbt_project/seeds/config/vocabularies.csv`` holds each vocabulary
(dossier status, channel, reception place, survey agency, survey answer)
once: the staging models map delivered text with it (macros/vocabularies.sql),
the GX suites check against it (their value sets are suite parameters filled
from here, ``motcua.quality.settings``) and the sample generator writes its
values (``motcua_dev.generator.catalog``). Python reads the same file dbt
seeds, so a value added there reaches every one of them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from motcua import config

SEED = ("seeds", "config", "vocabularies.csv")


@dataclass(frozen=True)
class Entry:
    """One canonical value of a vocabulary (a row of the seed)."""

    vocabulary: str
    value: str
    role: str
    code: str
    spelling: str
    category: str


def seed_path() -> Path:
    return config.dbt_project_dir().joinpath(*SEED)


@cache
def _read(path: Path) -> tuple[Entry, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(Entry(**row) for row in csv.DictReader(handle))


def entries(vocabulary: str) -> tuple[Entry, ...]:
    """The values of ``vocabulary`` in the seed's order; an unknown name is an error."""
    found = tuple(e for e in _read(seed_path()) if e.vocabulary == vocabulary)
    if not found:
        raise KeyError(f"no vocabulary {vocabulary!r} in {seed_path()}")
    return found


def values(vocabulary: str, category: str | None = None) -> tuple[str, ...]:
    """The canonical values (of one category when given), in the seed's order."""
    return tuple(e.value for e in entries(vocabulary) if category is None or e.category == category)


def value(vocabulary: str, role: str) -> str:
    """The canonical value with ``role`` (e.g. ``value("status", "result")``)."""
    for entry in entries(vocabulary):
        if entry.role == role:
            return entry.value
    raise KeyError(f"no role {role!r} in vocabulary {vocabulary!r}")


def answer_labels() -> dict[int, str]:
    """Survey answer score → label, 1..5."""
    return {int(e.code): e.value for e in entries("survey_answer")}
