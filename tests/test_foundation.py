"""The application skeleton: configuration, migrations, access declarations, headers."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from portal import create_app
from portal.config import Config, TestingConfig
from portal.extensions import db
from portal.headers import CSP


def _diff_after_upgrade(url: str) -> list:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        db.engine.dispose()
    return diff


def test_migrations_build_the_models_schema_on_sqlite(tmp_path):
    assert _diff_after_upgrade(f"sqlite:///{tmp_path / 'm.sqlite'}") == []


@pytest.mark.postgres
def test_migrations_build_the_models_schema_on_postgresql(postgres_url):
    from tests import conftest

    assert _diff_after_upgrade(postgres_url) == []
    conftest._PG_SCHEMA_READY.discard(postgres_url)


@pytest.mark.parametrize("key", ["", "dev", "short-key", "dev-insecure-key-change-me-0123456789abcdef"])
def test_production_refuses_to_start_without_a_strong_secret_key(key):
    class Prod(Config):
        SECRET_KEY = key
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Prod)


def test_production_config_is_hardened():
    class Prod(Config):
        SECRET_KEY = "kW3q9vZr_T1mXb7LcY0sHd5eGf2NjUp8Ao4RiV6tE-yQ"
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    app = create_app(Prod)
    assert app.debug is False
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert not app.config.get("LOGIN_DISABLED")
    assert app.config.get("WTF_CSRF_ENABLED", True)


def test_every_route_declares_who_may_use_it(app):
    missing = [rule.endpoint for rule in app.url_map.iter_rules()
               if rule.endpoint != "static" and getattr(app.view_functions[rule.endpoint], "access", None) is None]
    assert missing == []


def test_home_page_presents_the_four_services(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for link in ("/gestionnaire/connexion", "/etablissement/connexion", "/inscription/", "/public/"):
        assert f'href="{link}"' in page
    assert '<html lang="fr"' in page


@pytest.mark.parametrize("path", ["/", "/page-inexistante", "/accessibilite"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CSP
    assert "unsafe-inline" not in CSP
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_page_gets_a_french_404(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_sqlite_database_runs_in_wal_mode_with_foreign_keys(tmp_path):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'w.sqlite'}")
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()


@pytest.mark.parametrize("page", ["184467440737095518", "100001"])
def test_page_numbers_past_any_list_are_not_found(client, page):
    assert client.get(f"/?page={page}").status_code == 404


def test_ids_past_the_database_integers_match_no_page(app, client):
    """Every route taking a number answers 404 to one the database's integer columns cannot
    hold, whoever asks and however (PostgreSQL refused the query: a 500 before)."""
    checked = 0
    for rule in app.url_map.iter_rules():
        numbers = [name for name, converter in rule._converters.items() if converter.regex == r"\d+"]
        if not numbers:
            continue
        values = {name: (2**31 if name in numbers else "x") for name in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
            checked += 1
    assert checked >= 20


def test_layout_links_follow_the_application_root(client):
    # Served at the root first: the layout's fixed links are built once per root, so a
    # deployment under a path prefix must not get the root's links (nor the reverse).
    at_root = client.get("/").get_data(as_text=True)
    assert 'href="/static/dsfr/dsfr.min.css"' in at_root
    prefixed = client.get("/", base_url="http://localhost/portail/").get_data(as_text=True)
    assert 'href="/portail/static/dsfr/dsfr.min.css"' in prefixed
    assert 'href="/portail/accessibilite"' in prefixed
    assert 'href="/static/dsfr/dsfr.min.css"' not in prefixed
    assert 'href="/static/dsfr/dsfr.min.css"' in client.get("/").get_data(as_text=True)


def _sqlite_triggers(url: str, build) -> dict[str, str]:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        build()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
        db.engine.dispose()
    return {name: " ".join(sql.split()) for name, sql in rows}


def test_migrations_leave_the_triggers_of_the_kept_campaign_data_that_create_all_installs(tmp_path):
    """A table added to generation.WATCHED needs a migration creating its triggers."""
    migrated = _sqlite_triggers(f"sqlite:///{tmp_path / 'migrated.sqlite'}", upgrade)
    created = _sqlite_triggers(f"sqlite:///{tmp_path / 'created.sqlite'}", db.create_all)
    assert created and migrated == created
