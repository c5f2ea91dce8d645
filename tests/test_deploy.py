"""Issue 15 point 13: the systemd unit supervises gunicorn (deploy/portal.service) and its
environment file (deploy/portal.env.example) names every setting the portal reads."""
from __future__ import annotations

import configparser
import re
import runpy
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "portal.service"
ENV_EXAMPLE = ROOT / "deploy" / "portal.env.example"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, comment_prefixes=("#", ";"))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(UNIT, encoding="utf-8")
    return parser


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", key), line
            values[key] = shlex.split(value)[0] if value else ""
    return values


def test_the_unit_kills_the_whole_process_group_and_restarts_on_failure():
    service = unit()["Service"]
    assert service["KillMode"] == "control-group"  # orphaned workers die with their master
    assert service["Restart"] == "on-failure"
    assert int(service["RestartSec"]) > 0
    assert service["Type"] == "notify"
    assert service.get("User") not in (None, "", "root")


def test_the_unit_runs_gunicorn_on_wsgi_app_with_the_project_settings():
    service = unit()["Service"]
    command = shlex.split(service["ExecStart"])
    assert Path(command[0]).name == "gunicorn"
    assert command[-1] == "wsgi:app"
    config = command[command.index("--config") + 1]
    assert (ROOT / config).resolve() == GUNICORN_CONF
    assert service["EnvironmentFile"].lstrip("-") == "/etc/portal/portal.env"
    graceful = runpy.run_path(str(GUNICORN_CONF))["graceful_timeout"]
    assert int(service["TimeoutStopSec"]) > graceful  # running requests finish before the kill
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def _variables_read(path: Path) -> set[str]:
    return set(re.findall(r'os\.environ\.get\(\s*"([A-Z0-9_]+)"', path.read_text(encoding="utf-8")))


def test_the_environment_example_names_every_setting_and_no_secret():
    values = env_example()
    read = _variables_read(ROOT / "portal" / "config.py") | _variables_read(GUNICORN_CONF)
    read -= {"TEST_DATABASE_URL"}
    assert read <= set(values), read - set(values)
    assert values["PORTAL_ENV"] == "production"
    assert values["SECRET_KEY"] == ""  # the portal refuses to start until a real key is set
    assert values["RATELIMIT_STORAGE_URI"].startswith("redis://")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_reads_every_line_of_the_unit():
    result = subprocess.run(["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True,
                            timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if line.strip() and "is not executable" not in line]  # /srv/portal exists only on the server
    assert problems == []


def test_the_readme_deploys_with_the_unit():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Déploiement"):]
    section = section[:section.index("\n## ")]
    assert "deploy/portal.service" in section and "deploy/portal.env.example" in section
    assert "systemctl enable --now portal" in section
    assert "gunicorn -w" not in section  # no unsupervised gunicorn started by hand
