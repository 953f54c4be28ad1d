"""The install descriptions (pyproject.toml, environment.yml, docker-compose.yml, .ci/run) agree."""

from __future__ import annotations

import tomllib

import yaml

from warehouse.settings import PROJECT_ROOT


def _pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def test_environment_yml_pins_the_same_requirements_as_pyproject() -> None:
    project = _pyproject()["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    pip_section = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    assert set(pip_section) - {"-e ."} == wanted
    assert "-e ." in pip_section


def test_dbt_is_pinned_below_1_12() -> None:
    deps = _pyproject()["project"]["dependencies"]
    assert "dbt-core>=1.11,<1.12" in deps
    assert "dbt-postgres~=1.11" in deps


def test_compose_runs_the_pipeline_against_its_postgres() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    pipeline = services["pipeline"]
    assert pipeline["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "@postgres:5432/heimdall" in pipeline["environment"]["HEIMDALL_DATABASE_URL"]
    assert pipeline["command"][:2] == ["heimdall", "demo"]
    webhooks = services["webhooks"]
    assert webhooks["command"][:3] == ["heimdall", "webhooks", "serve"] and "0.0.0.0" in webhooks["command"]
    assert "@postgres:5432/heimdall" in webhooks["environment"]["HEIMDALL_DATABASE_URL"]
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    for folder in ("warehouse", "generator", "connectors", "insights", "heimdall", "dbt"):
        assert f"COPY {folder} ./{folder}" in dockerfile


def test_ci_runs_make_test() -> None:
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()
