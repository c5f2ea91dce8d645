"""Issue 15 point 12: anonymous registrations and drafts are bounded per client address, in
the shared rate-limit storage (memory here, Redis in production: tested against a real one)."""
from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.config import Config, TestingConfig
from portal.extensions import db, limiter
from portal.models import Brouillon, Inscription
from portal.services import throttle
from tests.inscription.conftest import text
from tests.public.test_public_flow import PUBLIC_IDENTITE, catalogue, fill, register  # noqa: F401

NOMS = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard"]


@pytest.fixture
def app_overrides():
    return {"PUBLIC_INSCRIPTIONS_PER_ADDRESS": "2 per hour;3 per day",
            "PUBLIC_DRAFTS_PER_ADDRESS": "4 per hour;6 per day"}


def browser(app, address="203.0.113.7"):
    """A new visitor (fresh cookies) behind ``address``."""
    http = app.test_client()
    http.environ_base["REMOTE_ADDR"] = address
    return http


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_default_limits_leave_room_for_a_computer_room():
    assert Config.PUBLIC_INSCRIPTIONS_PER_ADDRESS == "40 per hour;120 per day"
    assert Config.PUBLIC_DRAFTS_PER_ADDRESS == "100 per hour;400 per day"


def test_registrations_past_the_quota_get_a_french_429_and_nothing_is_written(app, catalogue):
    for nom in NOMS[:2]:
        response = register(browser(app), catalogue["CAP"],
                            identite={**PUBLIC_IDENTITE, "nom_naissance": nom})
        assert response.status_code == 302, text(response)

    refused = register(browser(app), catalogue["CAP"], identite={**PUBLIC_IDENTITE, "nom_naissance": NOMS[2]})

    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    page = text(refused)
    assert 'id="resume-erreurs"' in page and 'role="alert"' in page
    assert "Trop d'inscriptions ont été enregistrées depuis votre adresse réseau" in page
    assert "au plus 2 par heure et 3 par jour" in page and "Réessayez dans" in page
    assert count(Inscription) == 2
    other = register(browser(app, "198.51.100.9"), catalogue["CAP"],
                     identite={**PUBLIC_IDENTITE, "nom_naissance": NOMS[3]})
    assert other.status_code == 302 and count(Inscription) == 3


def test_the_same_registration_sent_twice_counts_once(app, catalogue):
    http = browser(app)
    assert register(http, catalogue["CAP"]).status_code == 302
    again = http.post("/public/inscription/recapitulatif", data={"secret": "x", "secret_confirmation": "x"})
    assert again.status_code == 302
    assert throttle.PUBLIC_INSCRIPTIONS.blocked_for("203.0.113.7") is None
    assert register(browser(app), catalogue["CAP"], identite={**PUBLIC_IDENTITE, "nom_naissance": "Autre"}
                    ).status_code == 302


def test_new_drafts_past_the_quota_are_refused_and_not_stored(app, catalogue):
    for _ in range(4):
        assert browser(app).post("/public/inscription/identite", data=PUBLIC_IDENTITE).status_code == 302
    http = browser(app)
    refused = http.post("/public/inscription/identite", data=PUBLIC_IDENTITE)
    assert refused.status_code == 429
    page = text(refused)
    assert "Trop d'inscriptions ont été commencées" in page and 'id="resume-erreurs"' in page
    assert count(Brouillon) == 4
    # Going on with a draft already started is not a new draft.
    started = browser(app, "198.51.100.9")
    for _ in range(4):
        assert started.post("/public/inscription/identite", data=PUBLIC_IDENTITE).status_code == 302
    assert count(Brouillon) == 5


def test_school_computers_are_not_bounded_by_the_public_quotas(app, client, poste):
    from tests.inscription.conftest import IDENTITE

    for _ in range(6):
        client.post("/inscription/nouvelle")
        assert client.post("/inscription/etape/identite", data=IDENTITE).status_code == 302


@pytest.fixture
def poste(client, session_examen, make_specialite, make_etablissement, publish, open_service, open_poste):
    from tests.conftest import STRONG_PASSWORD

    cap = make_specialite("CAP", libelle="Cuisine")
    publish(session_examen, cap)
    etab = make_etablissement(inscription_password=STRONG_PASSWORD, specialites=[cap], service_ouvert=True)
    open_service(session_examen, "etablissement")
    assert open_poste(etab, STRONG_PASSWORD).status_code == 302
    return etab


REDIS_URL = "redis://127.0.0.1:6379/11"


def _redis():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return connection


def test_the_quota_is_shared_by_every_instance_through_redis(tmp_path):
    """Two app instances (two processes of gunicorn, two servers) count in the same Redis."""
    connection = _redis()
    address = f"192.0.2.{secrets.randbelow(250) + 1}-{secrets.token_hex(4)}"
    settings = dict(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'q.sqlite'}",
                    RATELIMIT_STORAGE_URI=REDIS_URL,
                    PUBLIC_INSCRIPTIONS_PER_ADDRESS="2 per hour;3 per day")
    try:
        first = create_app(TestingConfig, **settings)
        with first.app_context():
            throttle.PUBLIC_INSCRIPTIONS.consume(address)
            throttle.PUBLIC_INSCRIPTIONS.consume(address)
        second = create_app(TestingConfig, **settings)  # a new storage client, as another process
        with second.app_context():
            assert "redis" in type(limiter.limiter.storage).__name__.lower()
            with pytest.raises(throttle.QuotaExceeded) as refused:
                throttle.PUBLIC_INSCRIPTIONS.consume(address)
            assert refused.value.wait.total_seconds() > 0
            assert throttle.PUBLIC_INSCRIPTIONS.blocked_for(address + "-other") is None
    finally:
        for key in connection.scan_iter(f"*{address}*"):
            connection.delete(key)
