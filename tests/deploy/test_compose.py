"""The production-style stack as far as it can be checked without Docker.

docker-compose.yml parses and defines the services of Airflow's own Celery
stack, every image is pinned, every long-running service has a healthcheck,
the Airflow containers share one CeleryExecutor configuration (Redis broker,
Postgres result backend, the api-server's execution API, one JWT secret),
no secret value is committed, and the Dockerfile installs requirements.lock
on the Airflow version the lock pins.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from motcua import config

ROOT = config.repo_root()
SERVICES = {
    "postgres",
    "redis",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
    "mailpit",
    "superset",
    "superset-assets",
}
AIRFLOW_SERVICES = sorted(s for s in SERVICES if s.startswith("airflow-"))
ONE_SHOT = {"airflow-init", "superset-assets"}
SECRET_NAME = re.compile(
    r"PASSWORD(?!S_FILE)|SECRET|TOKEN|FERNET|_KEY$|^AIRFLOW_CONN_|SQL_ALCHEMY_CONN|BACKEND"
)
REFERENCE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")
ONLY_REFERENCE = re.compile(rf"^{REFERENCE.pattern}$")
PLACEHOLDERS = {"", "change-me"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def _locked(name: str, lock: str = "requirements.lock") -> str:
    text = (ROOT / lock).read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(name)}==(\S+)$", text, re.MULTILINE)
    assert match, f"{name} is not in requirements.lock"
    return match.group(1)


def test_the_services_are_the_celery_stack(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == SERVICES


def test_every_image_is_pinned_to_a_version(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} has no image"
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        # a full release: x.y.z, or x.y for PostgreSQL (its minor is the patch level)
        assert re.match(r"v?\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$", tag), f"{name}: {image}"


def test_the_project_image_is_built_here_and_tagged_with_the_package_version(
    services: dict[str, dict[str, Any]],
) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    for name in AIRFLOW_SERVICES:
        assert services[name]["build"] == ".", name
        assert services[name]["image"] == f"motcua-analytics:{version}", name


def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            assert "restart" not in service
            continue
        assert service.get("restart") == "always", name
        check = service.get("healthcheck") or {}
        assert check.get("test"), f"{name} has no healthcheck"
        assert check.get("interval") and check.get("retries"), name


def test_the_airflow_services_share_the_celery_executor_setup(
    services: dict[str, dict[str, Any]],
) -> None:
    envs = [services[name]["environment"] for name in AIRFLOW_SERVICES]
    common = envs[0]
    assert common["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert common["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert common["AIRFLOW__CELERY__RESULT_BACKEND"].endswith("@postgres:5432/airflow")
    assert common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
    assert (
        common["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
        == "http://airflow-apiserver:8080/execution/"
    )
    assert common["AIRFLOW__CORE__AUTH_MANAGER"].endswith(".SimpleAuthManager")
    # keys every component must agree on, and the scheduler's health endpoint
    shared = (
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW_CONN_MOTCUA_WAREHOUSE",
    )
    for env in envs:
        for key in shared:
            assert env[key] == common[key], key
    assert common["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "8974/health" in " ".join(services["airflow-scheduler"]["healthcheck"]["test"])


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else " ".join(command)


def test_each_airflow_service_runs_its_component(services: dict[str, dict[str, Any]]) -> None:
    assert _command(services["airflow-scheduler"]) == "scheduler"
    assert _command(services["airflow-dag-processor"]) == "dag-processor"
    assert _command(services["airflow-triggerer"]) == "triggerer"
    assert _command(services["airflow-worker"]) == "celery worker"
    assert re.search(r"(^|airflow )api-server$", _command(services["airflow-apiserver"]).strip())
    assert "airflow db migrate" in _command(services["airflow-init"])
    worker = services["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker  # so it can be scaled
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert worker["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        if name != "airflow-init":
            assert depends["airflow-init"]["condition"] == "service_completed_successfully"


def test_the_mounted_init_script_exists(services: dict[str, dict[str, Any]]) -> None:
    for volume in services["postgres"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).is_file(), source
    for volume in services["superset"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source / "superset_config.py").is_file(), source
            assert (ROOT / source / "provision_access.py").is_file(), source


def _environment_values(services: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    found = []
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            found.append((name, key, str(value)))
    return found


def _secret_part(value: str) -> str | None:
    """The password of a URL (None if it has none), else the whole value."""
    if "://" in value and not ONLY_REFERENCE.match(value):
        credentials = re.search(r"://[^:/@]+:([^@]+)@", value)
        return credentials.group(1) if credentials else None
    return value


def test_no_secret_value_is_committed_in_the_compose_file(
    services: dict[str, dict[str, Any]],
) -> None:
    for service, key, value in _environment_values(services):
        secret = _secret_part(value)
        if SECRET_NAME.search(key) and secret is not None:
            assert ONLY_REFERENCE.match(secret), f"{service}: {key} holds a literal secret"
        assert "change-me" not in value, f"{service}: {key}"
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert not re.search(r"://[^:/@\s]+:(?!\$\{)[^@\s]+@", text), "a URL with a literal password"


def test_env_example_holds_placeholders_only(env_example: dict[str, str]) -> None:
    for key, value in env_example.items():
        secret = _secret_part(value)
        if SECRET_NAME.search(key) or (secret is not None and secret != value):
            assert secret is None or secret in PLACEHOLDERS, f"{key}={value!r} in .env.example"


def test_every_variable_the_compose_file_needs_is_in_env_example(
    env_example: dict[str, str],
) -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    text = text.replace("$$", "")  # escaped: the container's shell expands these
    needed = {m.group(1) for m in REFERENCE.finditer(text)}
    assert needed, "no ${VAR} reference found"
    assert needed <= set(env_example), needed - set(env_example)


def test_no_env_file_is_tracked_by_git() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--", ".env", "*.env", "**/.env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    assert tracked.stdout.split() == []


def test_the_dockerfile_installs_the_lock_on_the_locked_airflow() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (base,) = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    match = re.fullmatch(r"apache/airflow:(\d+\.\d+\.\d+)-python(\d+\.\d+)", base)
    assert match, base
    airflow_version, python_version = match.groups()
    assert airflow_version == _locked("apache-airflow") == _locked("apache-airflow-core")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"uv pip compile --python-version {python_version} " in makefile
    assert re.search(r"^COPY\b.*\brequirements\.lock\b", dockerfile, re.MULTILINE)
    assert re.search(r"pip install .*-r \S*requirements\.lock", dockerfile)
    assert "ENV" in dockerfile and "DO_NOT_TRACK=1" in dockerfile


def test_the_lock_has_the_celery_stack() -> None:
    _locked("apache-airflow-providers-celery")
    _locked("celery")
    _locked("redis")


def test_the_api_server_logs_admin_in_with_the_password_from_env(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """The one-liner that writes SimpleAuthManager's passwords file, run for real."""
    script = _command(services["airflow-apiserver"])
    (code,) = re.findall(r"python -c '([^']+)'", script)
    env = {**os.environ, "AIRFLOW_ADMIN_PASSWORD": 'pa"ss wörd'}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == {"admin": 'pa"ss wörd'}
    common = services["airflow-apiserver"]["environment"]
    assert "$${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE}" in script
    assert common["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].startswith("/opt/airflow/")
    assert common["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    assert "exec /entrypoint airflow api-server" in script


def test_superset_is_the_locked_release_on_loopback_with_a_health_check(
    services: dict[str, dict[str, Any]],
) -> None:
    superset = services["superset"]
    # the image is the release superset/requirements.lock pins for make bi and the tests
    assert (
        superset["image"]
        == f"apache/superset:{_locked('apache-superset', 'superset/requirements.lock')}"
    )
    assert superset["ports"] == ["127.0.0.1:8088:8088"]
    assert "localhost:8088/health" in " ".join(superset["healthcheck"]["test"])
    env = superset["environment"]
    assert env["SUPERSET_CONFIG_PATH"] == "/app/motcua/superset_config.py"
    assert env["SUPERSET_METADATA_URL"].endswith("@postgres:5432/superset")
    assert (env["SCARF_ANALYTICS"], env["DO_NOT_TRACK"]) == ("false", "1")
    for key in ("SUPERSET_SECRET_KEY", "SUPERSET_ADMIN_PASSWORD", "BI_WAREHOUSE_PASSWORD"):
        assert ONLY_REFERENCE.match(env[key]), key
    assert (
        superset["depends_on"]["superset-assets"]["condition"] == "service_completed_successfully"
    )
    assert superset["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_superset_imports_the_bundle_with_its_own_cli(services: dict[str, dict[str, Any]]) -> None:
    script = _command(services["superset"])
    order = [
        "superset db upgrade",
        "superset init",
        "superset fab create-admin",
        "superset import-datasources -p /bundle/motcua_superset.zip",
        "superset import-dashboards -p /bundle/motcua_superset.zip",
        "provision_access.py < /bundle/access_plan.json",
        "exec gunicorn",
    ]
    positions = [script.index(step) for step in order]
    assert positions == sorted(positions)
    assert "set -e" in script
    assets = services["superset-assets"]
    assert assets["entrypoint"][-4:] == ["bi", "bundle", "--out", "/bundle"]
    # the bundle names the BI login, never its password
    assert assets["environment"]["BI_WAREHOUSE_URL"].startswith("postgresql://${BI_WAREHOUSE_USER")
    assert ":${" not in assets["environment"]["BI_WAREHOUSE_URL"].split("@")[0].split("//")[1]
    init = (ROOT / "deploy" / "init-superset.sql").read_text(encoding="utf-8")
    assert "create database superset" in init


def test_the_bundle_service_writes_what_the_superset_service_reads(tmp_path: Path) -> None:
    """`python -m motcua bi bundle`, run for real: the ZIP, the plan, no password."""
    import zipfile

    env = {**os.environ, "BI_WAREHOUSE_URL": "postgresql://superset_bi@postgres:5432/warehouse"}
    subprocess.run(
        [sys.executable, "-m", "motcua", "bi", "bundle", "--out", str(tmp_path)],
        env=env,
        check=True,
        capture_output=True,
    )
    with zipfile.ZipFile(tmp_path / "motcua_superset.zip") as archive:
        names = archive.namelist()
        database = archive.read("motcua_superset/databases/motcua_warehouse.yaml").decode()
    assert "motcua_superset/metadata.yaml" in names
    assert "postgresql+psycopg2://superset_bi@postgres:5432/warehouse" in database
    plan = json.loads((tmp_path / "access_plan.json").read_text(encoding="utf-8"))
    assert plan["users"] == [] and plan["charts"] and plan["rls_datasets"]
