"""``make run``'s set-up skips what is already done for the current state, and only that.

``dbt parse`` is redone when a project file, dbt's version or an environment
variable the project reads changes; ``airflow db migrate`` when the metadata
database's schema revision (or Airflow's version, or the database) changes.
The two commands themselves are replaced by a recorder: what is checked is
which of them the set-up starts.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from motcua import config, runner
from tests.conftest import create_database, drop_database


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the dbt project's sources, with a (fake) manifest and partial parse."""
    dest = tmp_path / "dbt_project"
    shutil.copytree(config.dbt_project_dir(), dest, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setenv("MOTCUA_DBT_PROJECT_DIR", str(dest))
    return dest


@pytest.fixture
def meta(admin_url: str) -> Iterator[str]:
    url = create_database(admin_url, "motcua_t_setup")
    yield url
    drop_database(admin_url, url)


def _env(tmp_path: Path, meta: str, host: str = "127.0.0.1") -> dict[str, str]:
    home = tmp_path / "airflow"
    home.mkdir(exist_ok=True)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": config.parse_pg_url(meta).url(
            driver="postgresql+psycopg2"
        ),
        "WH_HOST": host,
    }


def _set_up(env: dict[str, str], logs: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run the set-up with fake commands that do what the real ones leave behind."""
    started: list[str] = []

    def fake(steps: list[tuple[list[str], Path]], env: dict[str, str]) -> None:
        for cmd, log in steps:
            started.append(" ".join(Path(cmd[0]).name.split() + cmd[1:2]))
            log.write_text("ran\n", encoding="utf-8")
            if cmd[1] == "parse":
                target = config.dbt_project_dir() / "target"
                target.mkdir(exist_ok=True)
                (target / "manifest.json").write_text("{}", encoding="utf-8")
                (target / "partial_parse.msgpack").write_bytes(b"x")
            else:
                url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("+psycopg2", "")
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("create table if not exists alembic_version (version_num text)")
                    conn.execute("delete from alembic_version")
                    conn.execute("insert into alembic_version values ('rev1')")

    monkeypatch.setattr(runner, "_run_together", fake)
    logs.mkdir(exist_ok=True)
    runner.set_up(env, logs)
    return started


def test_a_second_set_up_with_nothing_changed_runs_nothing(
    tmp_path: Path, project: Path, meta: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, meta)
    assert _set_up(env, tmp_path / "logs1", monkeypatch) == ["dbt parse", "airflow db"]
    assert _set_up(env, tmp_path / "logs2", monkeypatch) == []
    for name in ("dbt_parse.log", "airflow_db_migrate.log"):  # each run still logs its steps
        assert (tmp_path / "logs2" / name).read_text(encoding="utf-8").startswith("skipped: ")


def test_a_changed_model_or_setting_reparses_and_a_new_schema_migrates(
    tmp_path: Path, project: Path, meta: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, meta)
    _set_up(env, tmp_path / "logs1", monkeypatch)
    model = next(project.joinpath("models").rglob("*.sql"))
    model.write_text(model.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _set_up(env, tmp_path / "logs2", monkeypatch) == ["dbt parse"]
    # another warehouse host (an env_var the project reads): its partial parse differs
    other = _env(tmp_path, meta, host="10.0.0.9")
    assert _set_up(other, tmp_path / "logs3", monkeypatch) == ["dbt parse"]
    # the metadata schema moved (an Airflow upgrade's migration half done, say)
    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("+psycopg2", "")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update alembic_version set version_num = 'rev0'")
    assert _set_up(other, tmp_path / "logs4", monkeypatch) == ["airflow db"]


def test_an_empty_metadata_database_is_migrated(
    tmp_path: Path, project: Path, meta: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, meta)
    _set_up(env, tmp_path / "logs1", monkeypatch)
    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("+psycopg2", "")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table alembic_version")
    assert _set_up(env, tmp_path / "logs2", monkeypatch) == ["airflow db"]


def test_another_dbt_command_rewriting_the_manifest_makes_the_next_run_reparse(
    tmp_path: Path, project: Path, meta: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lint's ``dbt parse`` (another profile, target) leaves a partial parse tasks cannot use."""
    env = _env(tmp_path, meta)
    _set_up(env, tmp_path / "logs1", monkeypatch)
    (project / "target" / "partial_parse.msgpack").write_bytes(b"another target's")
    assert _set_up(env, tmp_path / "logs2", monkeypatch) == ["dbt parse"]
    assert _set_up(env, tmp_path / "logs3", monkeypatch) == []
