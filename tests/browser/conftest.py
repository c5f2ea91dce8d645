"""Real-browser journeys: one gunicorn server on the demo data for the whole session, one
headless Chromium (Debian's), a fresh context per journey.

Skipped when /usr/bin/chromium, Playwright or axe-playwright-python is missing, unless
CI_REQUIRE_BROWSER=1 (then they fail). Every page a journey looks at goes through
``Visits.check`` (axe, screenshots at 360 and 1280 px, no horizontal scrolling, server HTML
kept for the Nu checker run by test_z_html_validity.py at the end).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.liveserver import LiveServer

from . import demo_facts
from .helpers import NARROW, SCREENSHOTS, Visits

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def browser_required() -> bool:
    return os.environ.get("CI_REQUIRE_BROWSER") == "1"


def _unavailable(reason: str):
    if browser_required():
        pytest.fail(f"Navigateur requis (CI_REQUIRE_BROWSER=1) mais indisponible : {reason}")
    pytest.skip(f"Navigateur indisponible : {reason}")


@pytest.fixture(scope="session")
def playwright_instance():
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} absent")
    try:
        import axe_playwright_python  # noqa: F401  (used by Visits.check)
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"paquet Python manquant ({exc.name}) : make install")
    manager = sync_playwright()
    instance = manager.start()
    yield instance
    manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def chromium(playwright_instance):
    try:
        browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    except Exception as exc:  # any launch failure means no usable browser here
        _unavailable(f"Chromium ne démarre pas ({str(exc).splitlines()[0]})")
    yield browser
    browser.close()


def _fresh_postgres_database() -> str | None:
    """On the PostgreSQL pass (TEST_DATABASE_URL set), a database of its own for the live
    server, created empty; None otherwise (the server then uses a SQLite file)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    target = target.set(database=f"{target.database}_navigateur")
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    engine.dispose()
    return target.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def live_server(chromium, tmp_path_factory):
    """gunicorn on a free 127.0.0.1 port, on a fresh database filled by `flask demo-data`
    (SQLite, or PostgreSQL on the PostgreSQL pass of the CI)."""
    server = LiveServer(tmp_path_factory.mktemp("navigateur"), workers=2, demo=True,
                        database_url=_fresh_postgres_database())
    server.prepare()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_app(live_server):
    """The application bound to the live server's database, to read facts of the demo data
    (never to drive a journey)."""
    from portal import create_app
    from portal.config import DevelopmentConfig

    return create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=live_server.env["DATABASE_URL"])


@pytest.fixture(scope="session")
def ecole(live_app) -> demo_facts.Ecole:
    return demo_facts.ecole_ouverte(live_app)


@pytest.fixture(scope="session")
def etablissement_par_defaut(live_app) -> demo_facts.Compte:
    from portal.demo import VITRINE_DEFAUT

    return demo_facts.etablissement_remis_par_defaut(live_app, exclude=VITRINE_DEFAUT.code)


@pytest.fixture(scope="session")
def visits(tmp_path_factory):
    """Every page seen by every journey of the session (their HTML is checked at the end)."""
    return Visits(html_dir=tmp_path_factory.mktemp("pages-html"), screenshots=SCREENSHOTS)


@pytest.fixture
def new_page(chromium, live_server, visits, request):
    """new_page(): a page in a fresh browser context (its own cookies), watched by visits."""
    contexts = []

    def make(journey: str | None = None, **options):
        context = chromium.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Europe/Paris",
                                       viewport=NARROW, accept_downloads=True, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return visits.watch(context.new_page(), journey or request.node.name)

    yield make
    for context in contexts:
        context.close()
