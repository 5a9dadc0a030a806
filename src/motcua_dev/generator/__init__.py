"""Sample-data generator of Một cửa Analytics: a contract-conforming inbox, by seed.

``generate(GeneratorConfig(...))`` writes ``onestop/hoso_*`` nightly dossier
deltas, ``survey/khaosat_*`` survey rounds and ``manifest.json`` (the figures
known by construction). ``write_sample`` / ``write_small`` are the presets;
``write_bench`` the fast single-file writer of the load benchmark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motcua_dev.generator.engine import GeneratorConfig, generate
from motcua_dev.generator.scenario import LatenessPin, Scenario, ScenarioError, SurveyPin

__all__ = [
    "GeneratorConfig",
    "LatenessPin",
    "Scenario",
    "ScenarioError",
    "SurveyPin",
    "generate",
    "write_bench",
    "write_reform",
    "write_sample",
    "write_small",
]


def write_sample(out_dir: Path, seed: int | None = None) -> dict[str, Any]:
    """The letter's story (27 Ninh Hòa units, 2016-01-01 → 2017-07-14); returns the manifest."""
    from motcua_dev.generator.presets import sample_config

    return generate(sample_config(Path(out_dir), seed))


def write_small(out_dir: Path, seed: int | None = None) -> dict[str, Any]:
    """A small end-to-end inbox (4 communes, a few months, every variant, pinned figures)."""
    from motcua_dev.generator.presets import small_config

    return generate(small_config(Path(out_dir), seed))


def write_reform(out_dir: Path, seed: int | None = None) -> dict[str, Any]:
    """Six Ninh Hòa communes across the 1/7/2025 reform (2024 → 2026-03-31, codes reused)."""
    from motcua_dev.generator.reform import write_reform as _write_reform

    return _write_reform(Path(out_dir), seed)


def write_bench(path: Path, rows: int, seed: int = 1) -> dict[str, Any]:
    """``rows`` valid contract rows in one plain UTF-8 CSV, as fast as possible."""
    from motcua_dev.generator.bench import write_bench as _write_bench

    return _write_bench(Path(path), rows, seed)
