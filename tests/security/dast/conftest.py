"""Attacker tools against a live server on 127.0.0.1 (SECURITY §4, items 15, 22, 31, 33).

One gunicorn server (two workers, demonstration data) serves the whole DAST session.
Every visitor logs in once, right after the server starts and before any attack: the
login throttles answer 429 to 127.0.0.1 once sqlmap and wapiti have hammered the login
forms, and they must keep doing so (no weakened limit for the scans).

These tests are slow: ``make security`` runs them (RUN_DAST=1), as does any ``-m``
expression selecting ``dast``; a plain ``make test`` skips them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from portal import demo
from tests.conftest import csrf_from
from tests.support.liveserver import LiveServer

from .tools import progress

SKIP_REASON = "DAST : lancé par make security (RUN_DAST=1) ou par -m dast"
SELECTS_DAST = re.compile(r"(?<!not )\bdast\b")
HEAD_CODE = "0690041V"  # the demonstration vocational lycée (tracking password already changed)
OPTION_RE = re.compile(r'<option[^>]*value="(\d+)"')
TOKEN_RE = re.compile(r'<code id="jeton-clair">([^<]+)</code>')


def dast_selected(config: pytest.Config) -> bool:
    if os.environ.get("RUN_DAST") == "1":
        return True
    return bool(SELECTS_DAST.search(config.getoption("markexpr") or ""))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if dast_selected(config):
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("dast") is not None:
            item.add_marker(skip)


@dataclass
class Live:
    """The running server and what the scans need to act as each kind of visitor."""

    url: str
    workdir: Path
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    api_token: str = ""
    specialite_id: int = 0

    def cookie_header(self, role: str) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies[role].items())

    def session(self, role: str) -> requests.Session:
        http = requests.Session()
        http.cookies.update(self.cookies.get(role, {}))
        return http


def login(url: str, path: str, **fields: str) -> requests.Session:
    http = requests.Session()
    form = http.get(url + path, timeout=30)
    response = http.post(url + path, data={**fields, "csrf_token": csrf_from(form.text)},
                         allow_redirects=False, timeout=30)
    assert response.status_code == 302, f"login on {path} failed: {response.status_code}"
    return http


def create_api_token(url: str) -> str:
    """An API token created by the admin through the manager UI (the clear value is shown once)."""
    admin = login(url, "/gestionnaire/connexion", email=demo.ADMIN_EMAIL, password=demo.ADMIN_PASSWORD)
    page = admin.get(url + "/gestionnaire/jetons-api", timeout=30)
    created = admin.post(url + "/gestionnaire/jetons-api",
                         data={"nom": "Analyse DAST", "csrf_token": csrf_from(page.text)}, timeout=30)
    match = TOKEN_RE.search(created.text)
    assert match, "the API token was not shown after its creation"
    return match.group(1)


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> Live:
    workdir = tmp_path_factory.mktemp("dast")
    server = LiveServer(workdir / "server", workers=2, demo=True)
    server.prepare()
    server.start()
    try:
        live = Live(server.url, workdir)
        head = login(server.url, "/etablissement/connexion", code=HEAD_CODE, password=demo.SUIVI_PASSWORD)
        manager = login(server.url, "/gestionnaire/connexion", email=demo.GESTIONNAIRE_EMAIL,
                        password=demo.GESTIONNAIRE_PASSWORD)
        live.cookies = {"anonyme": {}, "etablissement": head.cookies.get_dict(),
                        "gestionnaire": manager.cookies.get_dict()}
        options = OPTION_RE.findall(head.get(server.url + "/etablissement/listes", timeout=30).text)
        live.specialite_id = next(int(value) for value in options if value != "0")
        live.api_token = create_api_token(server.url)
        progress(f"DAST: live server {server.url} ready (log {server.log})")
        yield live
    finally:
        server.stop()
