"""Fixtures: the app on a real database (SQLite file by default, PostgreSQL when
TEST_DATABASE_URL says so), factories returning callables, login helpers."""
from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta

import pytest
from flask import g
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.engine import make_url

from portal import create_app, generation
from portal.config import TestingConfig
from portal.extensions import db
from portal.models import (
    Eleve,
    Etablissement,
    Gestionnaire,
    OuvertureService,
    SessionExamen,
    Specialite,
    utcnow,
)
from portal.services.passwords import hash_password
from portal.services.referentiel import ensure_examens

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_test"
STRONG_PASSWORD = "Une phrase de passe solide 2026"


def _pg_url() -> str:
    url = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_PG_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _postgres_available(url: str) -> bool:
    """Reachable, creating the test database on first use."""
    target = make_url(url)
    try:
        engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        engine.dispose()
        return True
    except Exception:
        return False


def postgres_required() -> bool:
    return os.environ.get("CI_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a reachable PostgreSQL; skips (or fails in CI) when there is none."""
    url = _pg_url()
    if not _postgres_available(url):
        if postgres_required():
            pytest.fail(f"PostgreSQL requis mais injoignable : {url}")
        pytest.skip("PostgreSQL injoignable : test ignoré")
    return url


def _main_database_url(tmp_path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


def _reset_postgres(app) -> None:
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.create_all()


_PG_SCHEMA_READY: set[str] = set()


def _truncate_postgres(app) -> None:
    # The generation counter keeps its row (the watched tables' triggers raise it).
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "generation_donnees")
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _fresh_g_per_request(app) -> None:
    """Tests keep an application context open, which every test request then reuses, so
    ``g`` (Flask-Login's cached user, ``g.session_examen``...) and the rows cached in the
    database session would leak from one request to the next. In production each request
    starts with an empty ``g`` and reads the database afresh: do the same."""

    def clear_g():
        for name in list(g):
            g.pop(name, None)
        db.session.expire_all()

    app.before_request_funcs.setdefault(None, []).insert(0, clear_g)


def build_app(database_url: str, **overrides):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url, **overrides)
    _fresh_g_per_request(app)
    with app.app_context():
        if database_url.startswith("postgresql"):
            if database_url not in _PG_SCHEMA_READY:
                _reset_postgres(app)
                _PG_SCHEMA_READY.add(database_url)
            else:
                try:
                    _truncate_postgres(app)
                except ProgrammingError:  # the schema was dropped meanwhile (migration test)
                    _reset_postgres(app)
        else:
            db.create_all()
    return app


@pytest.fixture
def app_overrides():
    """Override to change the configuration of the ``app`` fixture in a module."""
    return {}


@pytest.fixture
def app(tmp_path, app_overrides):
    url = _main_database_url(tmp_path)
    if url.startswith("postgresql") and not _postgres_available(url):
        pytest.fail(f"TEST_DATABASE_URL injoignable : {url}")
    app = build_app(url, **app_overrides)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_app(postgres_url, app_overrides):
    """The app on PostgreSQL whatever the main test database is (concurrency tests)."""
    app = build_app(postgres_url, **app_overrides)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- factories -----------------------------------------------------------------------


@pytest.fixture
def examens(app):
    found = ensure_examens()
    db.session.commit()
    return found


@pytest.fixture
def make_session(app, examens):
    def make(**overrides) -> SessionExamen:
        values = dict(annee=2027, libelle="Session 2027", academie="Académie de test",
                      date_examen=date(2027, 6, 15), courante=True,
                      texte_confirmation="Conservez cette confirmation.")
        values.update(overrides)
        session_examen = SessionExamen(**values)
        db.session.add(session_examen)
        db.session.commit()
        return session_examen

    return make


@pytest.fixture
def session_examen(make_session):
    return make_session()


@pytest.fixture
def make_specialite(app, examens):
    counter = iter(range(1, 10_000))

    def make(examen: str = "BCP", **overrides) -> Specialite:
        n = next(counter)
        values = dict(examen=examens[examen], code=f"{examen[:2]}{n:03d}", libelle=f"Spécialité {examen} {n}",
                      forme_globale=True, forme_progressive=False, section_europeenne_possible=(examen == "BCP"))
        values.update(overrides)
        specialite = Specialite(**values)
        db.session.add(specialite)
        db.session.commit()
        return specialite

    return make


@pytest.fixture
def make_etablissement(app):
    counter = iter(range(1, 10_000))

    def make(code: str | None = None, *, password: str | None = None, inscription_password: str | None = None,
             specialites=(), **overrides) -> Etablissement:
        n = next(counter)
        code = code or f"{9700000 + n}{'ABCDEFGHJK'[n % 10]}"
        values = dict(code=code, nom=f"Lycée professionnel numéro {n}", type="LP", commune="Testville",
                      suivi_password_hash=hash_password(password or code),
                      suivi_password_default=password is None,
                      inscription_password_hash=hash_password(inscription_password or code),
                      inscription_password_default=inscription_password is None)
        values.update(overrides)
        etab = Etablissement(**values)
        etab.specialites.extend(specialites)
        db.session.add(etab)
        db.session.commit()
        return etab

    return make


@pytest.fixture
def make_gestionnaire(app):
    counter = iter(range(1, 10_000))

    def make(*, role: str = "gestionnaire", password: str = STRONG_PASSWORD, must_change: bool = False,
             **overrides) -> Gestionnaire:
        n = next(counter)
        values = dict(email=f"gestionnaire{n}@ac-test.fr", nom=f"Gestionnaire {n}", role=role,
                      password_hash=hash_password(password), must_change_password=must_change)
        values.update(overrides)
        compte = Gestionnaire(**values)
        db.session.add(compte)
        db.session.commit()
        return compte

    return make


@pytest.fixture
def make_eleve(app):
    counter = iter(range(1, 100_000))

    def make(etablissement, session_examen, examen, **overrides) -> Eleve:
        n = next(counter)
        values = dict(session_id=session_examen.id, etablissement_id=etablissement.id, ine=f"{n:09d}0A",
                      nom=f"ELEVE{n}", prenoms="Camille", date_naissance=date(2008, 5, 17),
                      examen_id=examen.id, decision="F")
        values.update(overrides)
        eleve = Eleve(**values)
        db.session.add(eleve)
        generation.bump()  # as the loads of pupil bases do (portal/generation.py)
        db.session.commit()
        return eleve

    return make


@pytest.fixture
def open_service(app):
    """Open a registration service (globally, or for one exam) around now."""

    def make(session_examen, service: str = "etablissement", examen=None, *, debut=None, fin=None,
             fin_tardive=None, ouvert: bool = True) -> OuvertureService:
        ouverture = OuvertureService(session_id=session_examen.id, service=service,
                                     examen_id=examen.id if examen is not None else None, ouvert=ouvert,
                                     debut=debut or utcnow() - timedelta(days=1),
                                     fin=fin or utcnow() + timedelta(days=30), fin_tardive=fin_tardive)
        db.session.add(ouverture)
        db.session.commit()
        return ouverture

    return make


# --- helpers -------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def login_etablissement(client):
    def login(etab: Etablissement, password: str | None = None, *, http=client):
        return http.post("/etablissement/connexion", data={"code": etab.code, "password": password or etab.code})

    return login


@pytest.fixture
def login_gestionnaire(client):
    def login(compte: Gestionnaire, password: str = STRONG_PASSWORD, *, http=client):
        return http.post("/gestionnaire/connexion", data={"email": compte.email, "password": password})

    return login


@pytest.fixture
def open_poste(client):
    def login(etab: Etablissement, password: str | None = None, *, http=client):
        return http.post("/inscription/", data={"code": etab.code, "password": password or etab.code})

    return login


def now_paris_naive() -> datetime:
    from portal.formatting import to_paris

    return to_paris(utcnow()).replace(tzinfo=None)


@pytest.fixture
def make_inscription(app):
    """A registration inserted through the shared primitive (no business rule checked)."""
    from portal.models import Candidat
    from portal.services.inscriptions import insert_inscription

    counter = iter(range(1, 100_000))

    def make(session_examen, specialite, etablissement=None, *, statut: str = "active", forme: str = "globale",
             section_europeenne: bool = False, candidat: dict | None = None, **overrides):
        n = next(counter)
        person = dict(nom_naissance=f"NOM{n}", prenom1="Alex", sexe="F", date_naissance=date(2008, 3, 1),
                      commune_naissance="Lyon", pays_naissance="France", nationalite="Française",
                      statut="scolaire" if etablissement is not None else "individuel",
                      email=f"candidat{n}@example.org")
        person.update(candidat or {})
        inscription = insert_inscription(
            session_examen=session_examen, candidat=Candidat(**person), auteur="test",
            etablissement_id=etablissement.id if etablissement is not None else None,
            examen_id=specialite.examen_id, specialite_id=specialite.id, forme=forme,
            section_europeenne=section_europeenne,
            source="etablissement" if etablissement is not None else "public", **overrides)
        if statut == "annulee":
            from portal.services.inscriptions import set_cancelled

            set_cancelled(inscription, True, par="test")
        db.session.commit()
        return inscription

    return make


def open_computer(etablissement) -> str:
    """A school computer recorded as open (services/postes.py), as the registration password
    opens it; returns the id its session keeps."""
    from portal.services import postes

    poste_id = postes.open_poste(etablissement)
    db.session.commit()
    return poste_id
