"""The deployment files (Dockerfile, compose.yaml, the Caddyfile, the systemd unit) run real
commands, set real settings and check real health endpoints. No Docker engine runs here, so this is
what CI can prove: their words against the code, and (slow) the image's commands in a fresh
virtual environment made the way the Dockerfile makes it."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
import venv
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from bot.cli import cli
from bot.core.config import ENV_PREFIX, Settings, load_settings, setting_name
from tests.conftest import SIGNING_SECRET, Rig
from tests.processes import ROOT, clean_env, free_port
from tests.slackfake import BOT_TOKEN, FakeSlack

COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
UNIT = ROOT / "deploy" / "throughline.service"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
SETTINGS = {setting_name(field) for field in Settings.model_fields} | {ENV_PREFIX + "CONFIG"}
# what compose reads from .env, as an operator would fill it in
SAMPLE_SECRETS = {"POSTGRES_PASSWORD": "pw", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret"}
_INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def throughline_services() -> dict[str, dict[str, Any]]:
    """The services that run the image this repository builds."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if "build" in service or str(service.get("image", "")).startswith("throughline")
    }


def interpolate(text: str) -> str:
    """compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, with the sample .env."""

    def value(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if name in SAMPLE_SECRETS:
            return SAMPLE_SECRETS[name]
        assert kind in (":-", "-"), f"${{{name}}} has no default and is not in deploy/env.example"
        return rest

    return _INTERPOLATION.sub(value, text)


def resolve(args: list[str]) -> click.Command:
    """The `throughline` command these arguments run; fails the test if there is none, or if an
    option is not one of its options."""
    command: click.Command = cli
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        assert name in command.commands, f"`throughline {' '.join(args)}`: no command {name!r}"
        command = command.commands[name]
    assert not isinstance(command, click.Group) or command.invoke_without_command, args
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for arg in rest:
        if arg.startswith("-"):
            assert arg.split("=")[0] in options, f"`throughline {' '.join(args)}`: no option {arg}"
    return command


def dockerfile_instruction(name: str) -> str:
    """The text of a Dockerfile instruction (continuation lines joined)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return line.removeprefix(name + " ").strip()


def healthcheck_code(command: str) -> str:
    """The Python a health check runs (`python -c "..."`)."""
    words = shlex.split(command)
    assert words[:2] == ["python", "-c"], command
    return words[2]


def unit() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


# -- the commands ---------------------------------------------------------------------------------


def test_compose_runs_the_migration_once_then_two_serve_replicas_behind_one_proxy() -> None:
    services = throughline_services()
    commands = {name: service["command"] for name, service in services.items()}
    assert commands == {"migrate": ["db", "upgrade"], "serve-a": ["serve"], "serve-b": ["serve"]}
    for args in commands.values():
        resolve(args)
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("serve-a", "serve-b"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    everything = compose()["services"]
    published = [name for name, service in everything.items() if service.get("ports")]
    assert published == ["proxy"]  # one way in


def test_the_dockerfile_runs_throughline_serve_as_a_user_other_than_root() -> None:
    assert json.loads(dockerfile_instruction("ENTRYPOINT")) == ["throughline"]
    cmd = json.loads(dockerfile_instruction("CMD"))
    assert cmd == ["serve"]
    resolve(cmd)
    assert dockerfile_instruction("USER") not in ("root", "0")
    bases = re.findall(r"^FROM (\S+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert bases and all(base.endswith("-slim") for base in bases)
    assert "pip install --no-cache-dir --disable-pip-version-check ." in DOCKERFILE.read_text()


def test_the_systemd_unit_starts_throughline_serve_as_its_own_user() -> None:
    values = unit()
    (exec_start,) = values["ExecStart"]
    program, *args = shlex.split(exec_start)
    assert Path(program).name == "throughline" and Path(program).is_absolute()
    resolve(args)
    assert values["User"] == ["throughline"] and values["Restart"] == ["on-failure"]
    assert values["EnvironmentFile"] == ["/etc/throughline/throughline.env"]
    for option in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp"):
        assert option in values, option


def test_a_command_that_does_not_exist_is_caught() -> None:
    with pytest.raises(AssertionError):
        resolve(["db", "migrate"])
    with pytest.raises(AssertionError):
        resolve(["serve", "--workers", "4"])


# -- the settings ---------------------------------------------------------------------------------


def test_every_variable_compose_gives_throughline_is_a_setting_and_a_valid_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, service in throughline_services().items():
        environment = service["environment"]
        unknown = set(environment) - SETTINGS
        assert not unknown, f"{name}: {unknown} are not Throughline settings"
        for key in [k for k in os.environ if k.startswith(("THROUGHLINE_", "SLACK_")) or k == "DATABASE_URL"]:
            monkeypatch.delenv(key)
        for key, value in environment.items():
            monkeypatch.setenv(key, interpolate(str(value)))
        monkeypatch.chdir(tmp_path)
        settings = load_settings()  # a bad value would be a ConfigError
        assert settings.database_url.startswith("postgresql+psycopg://throughline:pw@db:5432/")
        assert settings.migrate_on_start is False  # the migrate service does it, once


def test_every_variable_compose_reads_from_env_is_in_the_example_or_has_a_default() -> None:
    example = {
        line.lstrip("# ").split("=")[0] for line in ENV_EXAMPLE.read_text().splitlines() if "=" in line
    }
    assert set(SAMPLE_SECRETS) <= example
    for name, kind, _ in _INTERPOLATION.findall(COMPOSE.read_text()):
        assert name in example or kind in (":-", "-"), name


def test_the_unit_documents_only_real_settings() -> None:
    """The unit's set-up names the variables its EnvironmentFile holds."""
    named = set(re.findall(r"\b(SLACK_[A-Z_]+|DATABASE_URL|THROUGHLINE_[A-Z_]+)\b", UNIT.read_text()))
    assert named and named - {"THROUGHLINE_"} <= SETTINGS


# -- the health checks ----------------------------------------------------------------------------


def test_the_health_checks_pass_against_a_running_app(rig: Rig) -> None:
    port = rig.url.rsplit(":", 1)[1]
    checks = {"Dockerfile": healthcheck_code(dockerfile_instruction("HEALTHCHECK").split(" CMD ", 1)[1])}
    for name, service in throughline_services().items():
        if "healthcheck" in service:
            test = service["healthcheck"]["test"]
            assert test[0] == "CMD" and test[1:3] == ["python", "-c"], test
            checks[name] = test[3].replace(":3000/", f":{port}/")
            assert service["environment"]["THROUGHLINE_PORT"] == "3000"  # the port the check asks
    assert {"Dockerfile", "serve-a", "serve-b"} <= set(checks)
    env = clean_env({"THROUGHLINE_PORT": port})
    for where, code in checks.items():
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=30)
        assert result.returncode == 0, (where, result.stderr)
    # and the same checks fail when the app does not answer
    closed = clean_env({"THROUGHLINE_PORT": str(free_port())})
    code = checks["Dockerfile"]
    assert subprocess.run([sys.executable, "-c", code], env=closed, capture_output=True).returncode != 0


def test_the_proxy_sends_to_both_replicas_and_checks_the_same_endpoint(rig: Rig) -> None:
    caddy = CADDYFILE.read_text()
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddy)
    assert upstreams is not None
    assert upstreams.group(1).split() == ["serve-a:3000", "serve-b:3000"]
    health = re.search(r"health_uri (\S+)", caddy)
    assert health is not None
    with urllib.request.urlopen(rig.url + health.group(1), timeout=5) as response:
        assert response.status == 200
    assert compose()["services"]["proxy"]["volumes"][0].startswith("./deploy/Caddyfile:")


def test_postgres_has_a_health_check_the_migration_waits_for() -> None:
    db = compose()["services"]["db"]
    assert db["healthcheck"]["test"][0] == "CMD-SHELL" and "pg_isready" in db["healthcheck"]["test"][1]
    user, database = db["environment"]["POSTGRES_USER"], db["environment"]["POSTGRES_DB"]
    url = interpolate(throughline_services()["migrate"]["environment"]["DATABASE_URL"])
    assert url == f"postgresql+psycopg://{user}:pw@db:5432/{database}"


# -- the image's commands, in a fresh virtual environment -----------------------------------------


def _copy_build_context(into: Path) -> None:
    """What the Dockerfile COPYs (and .dockerignore lets through): nothing else."""
    dockerfile = DOCKERFILE.read_text()
    for path in ("pyproject.toml", "README.md", "LICENSE"):
        assert path in dockerfile
        shutil.copy(ROOT / path, into / path)
    for package in ("bot", "storage"):
        assert f"COPY {package} ./{package}" in dockerfile
        shutil.copytree(ROOT / package, into / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


@pytest.mark.slow
@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="needs no test database: runs in CI's SQLite pass"
)
def test_a_plain_install_runs_the_commands_the_image_and_compose_run(tmp_path: Path, fake: FakeSlack) -> None:
    context = tmp_path / "src"
    context.mkdir()
    _copy_build_context(context)
    prefix = tmp_path / "venv"
    venv.create(prefix, with_pip=True)
    python, throughline = prefix / "bin" / "python", prefix / "bin" / "throughline"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "."],
        cwd=context,
        check=True,
        timeout=600,
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = {k: v for k, v in clean_env().items() if k != "PYTHONPATH"}  # the installed package only

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [throughline, *args],
            cwd=run_dir,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )

    commands = [["serve"], *(service["command"] for service in throughline_services().values())]
    commands.append(shlex.split(unit()["ExecStart"][0])[1:])
    for args in commands:
        result = run(*args, "--help")
        assert result.returncode == 0, (args, result.stderr)
    # the migrations are in the package, not only in the source tree
    database = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run("db", "upgrade", DATABASE_URL=database)
    assert result.returncode == 0 and result.stdout.startswith("database upgraded: empty -> "), result
    assert run("db", "upgrade", DATABASE_URL=database).stdout.startswith("database already at ")
    assert run("manifest").stdout == (ROOT / "manifest.yml").read_text()  # shipped with the package

    # the image's CMD, configured as compose configures it, answers the image's health check
    port = str(free_port())
    log = tmp_path / "serve.log"
    err = log.open("w")
    serve = subprocess.Popen(
        [throughline, "serve"],
        cwd=run_dir,
        env={
            **env,
            "DATABASE_URL": database,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.url,
            "THROUGHLINE_MIGRATE_ON_START": "false",
            "THROUGHLINE_HOST": "127.0.0.1",
            "THROUGHLINE_PORT": port,
        },
        stdout=subprocess.DEVNULL,
        stderr=err,
    )
    try:
        code = healthcheck_code(dockerfile_instruction("HEALTHCHECK").split(" CMD ", 1)[1])
        deadline = time.monotonic() + 60
        while True:
            assert serve.poll() is None, log.read_text()
            check_env = {**env, "THROUGHLINE_PORT": port}
            check = subprocess.run([python, "-c", code], env=check_env, capture_output=True)
            if check.returncode == 0:
                break
            assert time.monotonic() < deadline, (check.stderr, log.read_text())
            time.sleep(0.5)
    finally:
        serve.terminate()
        serve.wait(30)
        err.close()
    assert serve.returncode == 0, log.read_text()  # SIGTERM: a clean stop
