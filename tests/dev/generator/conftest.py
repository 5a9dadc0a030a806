"""Shared generated inboxes: each preset is generated once per test session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from motcua_dev.generator import write_sample, write_small


@pytest.fixture(scope="session")
def small_inbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("small")
    write_small(out)
    return out, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_inbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sample")
    write_sample(out)
    return out, json.loads((out / "manifest.json").read_text(encoding="utf-8"))
