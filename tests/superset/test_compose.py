"""docker-compose.yml's superset service runs the same CLI as `make demo` (its commands and options exist),
against the postgres service, with the same config, bundle and Superset pins as the Makefile path."""

from __future__ import annotations

import shlex
from typing import Any

import typer.main
import yaml

from heimdall.cli import app
from warehouse.settings import PROJECT_ROOT


def _cli_accepts(argv: list[str]) -> None:
    """``argv`` (after `heimdall`) names a command of the real CLI, with options it declares."""
    command: Any = typer.main.get_command(app)
    words = list(argv)
    while hasattr(command, "commands") and words and not words[0].startswith("-"):
        name = words.pop(0)
        assert name in command.commands, f"`heimdall … {name}` is not a command"
        command = command.commands[name]
    assert not hasattr(command, "commands"), f"{argv}: names a group, not a command"
    declared = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for word in words:
        if word.startswith("--"):
            assert word.split("=")[0] in declared, f"{argv}: {word} is not an option of that command"


def _compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def test_superset_service_provisions_then_serves_with_the_cli() -> None:
    service = _compose()["services"]["superset"]
    assert service["command"][:2] == ["sh", "-c"]
    steps = [shlex.split(step.strip()) for step in service["command"][2].split("&&")]
    steps = [step[1:] if step[0] == "exec" else step for step in steps]
    assert [step[:3] for step in steps] == [
        ["heimdall", "superset", "provision"],
        ["heimdall", "superset", "serve"],
    ]
    for step in steps:
        _cli_accepts(step[1:])
    assert "0.0.0.0" in steps[1]  # inside the container; published on the host's loopback only
    assert service["ports"] == ["127.0.0.1:8088:8088"]


def test_superset_service_uses_the_postgres_service_after_the_pipeline() -> None:
    services = _compose()["services"]
    service = services["superset"]
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert service["depends_on"]["pipeline"]["condition"] == "service_completed_successfully"
    assert "@postgres:5432/heimdall" in service["environment"]["HEIMDALL_DATABASE_URL"]
    assert service["environment"]["HEIMDALL_HOME"] == services["pipeline"]["environment"]["HEIMDALL_HOME"]
    _cli_accepts(services["pipeline"]["command"][1:])
    assert "--approve-planted" in services["pipeline"]["command"]


def test_superset_image_has_the_same_config_bundle_and_pins_as_the_makefile() -> None:
    service = _compose()["services"]["superset"]
    dockerfile = (PROJECT_ROOT / service["build"]["dockerfile"]).read_text()
    assert service["build"]["context"] == "."
    assert "COPY superset ./superset" in dockerfile
    assert "pip install -r superset/requirements.txt" in dockerfile
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "pip install --quiet -r superset/requirements.txt" in makefile
    pins = (PROJECT_ROOT / "superset" / "requirements.txt").read_text().split()
    assert {"apache-superset==6.1.0", "flask-caching==2.4.1", "rich", "cachetools", "psycopg2-binary"} <= set(
        pins
    )


def test_make_demo_ends_with_the_dashboards() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "superset-venv" in demo.splitlines()[0]
    line = next(line for line in demo.splitlines() if "heimdall demo" in line)
    argv = shlex.split(line.strip().replace("$(BIN)/", ""))
    _cli_accepts(argv[1:])
    assert "--dashboards" in argv and "--approve-planted" in argv


def test_ci_installs_chromium_when_missing_and_requires_the_browser_tests() -> None:
    run = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "apt-get install -y chromium" in run and "[ ! -x /usr/bin/chromium ]" in run
    assert "HEIMDALL_REQUIRE_BROWSER=1" in run
