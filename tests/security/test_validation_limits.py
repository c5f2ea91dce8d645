"""Server-side validation at the limits (SECURITY items 3, 5, 6, 23).

Max lengths equal the column lengths: a value one character longer gets a form error,
never a DataError (PostgreSQL enforces VARCHAR(n), SQLite does not: run this file with
TEST_DATABASE_URL too). NUL characters, which PostgreSQL refuses in text, and dates at
the ends of the calendar are refused cleanly everywhere.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.extensions import db, limiter
from portal.models import Etablissement, Gestionnaire
from portal.services.passwords import common_passwords, strength_problem
from tests.conftest import STRONG_PASSWORD
from tests.inscription.conftest import CONTACT, IDENTITE, publish  # noqa: F401
from tests.security.test_fuzz import (  # noqa: F401
    PUBLIC_CONTACT,
    PUBLIC_IDENTITE,
    _fresh_limiter,
    public_steps,
    row_counts,
    school_steps,
    world,
)

# (visitor, url, valid data, field, column length, step walk before)
LENGTHS = [
    ("poste", "/inscription/etape/identite", IDENTITE, "nom_naissance", 60, None),
    ("poste", "/inscription/etape/identite", IDENTITE, "nom_usage", 60, None),
    ("poste", "/inscription/etape/identite", IDENTITE, "prenom1", 40, None),
    ("poste", "/inscription/etape/identite", IDENTITE, "prenom2", 40, None),
    ("poste", "/inscription/etape/identite", IDENTITE, "prenom3", 40, None),
    ("poste", "/inscription/etape/identite", IDENTITE, "commune_naissance", 80, None),
    ("poste", "/inscription/etape/identite", IDENTITE, "pays_naissance", 60, None),
    ("poste", "/inscription/etape/identite", IDENTITE, "nationalite", 60, None),
    ("anonyme", "/public/inscription/contact", PUBLIC_CONTACT, "adresse1", 120, "contact"),
    ("anonyme", "/public/inscription/contact", PUBLIC_CONTACT, "adresse2", 120, "contact"),
    ("anonyme", "/public/inscription/contact", PUBLIC_CONTACT, "commune", 80, "contact"),
    ("anonyme", "/public/inscription/contact", PUBLIC_CONTACT, "pays", 60, "contact"),
    ("anonyme", "/public/inscription/contact", PUBLIC_CONTACT, "email", 254, "contact"),
    ("anonyme", "/public/inscription/contact", PUBLIC_CONTACT, "telephone", 20, "contact"),
    ("anonyme", "/public/inscription/contact", PUBLIC_CONTACT, "code_postal", 10, "contact"),
    ("admin", "/gestionnaire/sessions/nouvelle",
     {"annee": "2031", "libelle": "Session", "academie": "Lyon", "date_examen": "2031-06-01"}, "libelle", 120, None),
    ("admin", "/gestionnaire/sessions/nouvelle",
     {"annee": "2032", "libelle": "Session", "academie": "Lyon", "date_examen": "2032-06-01"}, "academie", 120, None),
    ("admin", "/gestionnaire/comptes/nouveau",
     {"email": "x@ac-test.fr", "nom": "Nom", "role": "gestionnaire", "password": STRONG_PASSWORD}, "nom", 120, None),
    ("admin", "/gestionnaire/comptes/nouveau",
     {"email": "x@ac-test.fr", "nom": "Nom", "role": "gestionnaire", "password": STRONG_PASSWORD}, "email", 254, None),
    ("admin", "/gestionnaire/autorisations-tardives",
     {"nom": "Durand", "prenom": "Paul", "date_naissance": "2008-01-02", "examen": "CAP",
      "service": "public", "etablissement": "", "motif": "retard"}, "nom", 60, None),
    ("admin", "/gestionnaire/autorisations-tardives",
     {"nom": "Durand", "prenom": "Paul", "date_naissance": "2008-01-02", "examen": "CAP",
      "service": "public", "etablissement": "", "motif": "retard"}, "prenom", 40, None),
    ("admin", "/gestionnaire/autorisations-tardives",
     {"nom": "Durand", "prenom": "Paul", "date_naissance": "2008-01-02", "examen": "CAP",
      "service": "public", "etablissement": "", "motif": "retard"}, "motif", 255, None),
    ("admin", "/gestionnaire/jetons-api", {"nom": "aval"}, "nom", 120, None),
]


def _value(field: str, length: int) -> str:
    if field == "email":
        return "a" * (length - len("@ac-test.fr")) + "@ac-test.fr"
    if field == "telephone":
        return "+33" + "1" * (length - 3)
    if field == "code_postal":
        return "1" * length
    return "A" * length


@pytest.mark.parametrize(("kind", "url", "valid", "name", "length", "walk"), LENGTHS,
                         ids=[f"{u}:{f}" for _k, u, _v, f, _l, _w in LENGTHS])
def test_one_character_over_the_column_is_a_form_error(app, world, kind, url, valid, name, length, walk):
    http = world.clients[kind]
    if walk:
        public_steps(walk)(world, http)
    before = row_counts()
    response = http.post(url, data={**valid, name: _value(name, length + 1)})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "caractères" in response.get_data(as_text=True)
    assert row_counts() == before


@pytest.mark.parametrize(("kind", "url", "valid", "name", "length", "walk"),
                         [row for row in LENGTHS if row[3] not in {"email", "telephone", "code_postal"}],
                         ids=[f"{u}:{f}" for _k, u, _v, f, _l, _w in LENGTHS
                              if f not in {"email", "telephone", "code_postal"}])
def test_exactly_the_column_length_is_stored_whole(app, world, kind, url, valid, name, length, walk):
    http = world.clients[kind]
    if walk:
        public_steps(walk)(world, http)
    response = http.post(url, data={**valid, name: _value(name, length)})
    assert response.status_code in (200, 302)
    assert response.status_code == 302 or 'id="nouveau-jeton"' in response.get_data(as_text=True), \
        response.get_data(as_text=True)[:1500]


NUL_FORMS = [
    ("anonyme", "/etablissement/connexion", {"code": "0691234\x00", "password": "x"}),
    ("anonyme", "/etablissement/connexion", {"code": "AB", "password": "mot\x00de passe"}),
    ("anonyme", "/inscription/", {"code": "\x00", "password": "x"}),
    ("anonyme", "/gestionnaire/connexion", {"email": "a\x00@ac-test.fr", "password": "x"}),
    ("anonyme", "/public/connexion", {"numero": "1", "date_naissance": "1990-02-03", "secret": "\x00" * 12}),
    ("poste", "/inscription/etape/identite", {**IDENTITE, "nom_naissance": "Dupont\x00"}),
    ("admin", "/gestionnaire/jetons-api", {"nom": "\x00"}),
    ("admin", "/gestionnaire/comptes/nouveau",
     {"email": "n\x00@ac-test.fr", "nom": "N\x00", "role": "gestionnaire", "password": STRONG_PASSWORD}),
    ("admin", "/gestionnaire/verrou", {"motif": "\x00"}),
    ("admin", "/gestionnaire/sessions/nouvelle",
     {"annee": "2033", "libelle": "S\x00", "academie": "A", "date_examen": "2033-06-01"}),
    ("admin", "/gestionnaire/autorisations-tardives",
     {"nom": "D\x00", "prenom": "P", "date_naissance": "2008-01-02", "examen": "CAP", "service": "public",
      "motif": "m\x00"}),
]


@pytest.mark.parametrize(("kind", "url", "data"), NUL_FORMS, ids=[f"{u}:{sorted(d)[0]}" for _k, u, d in NUL_FORMS])
def test_nul_characters_are_refused_without_writing(app, world, kind, url, data):
    http = world.clients[kind]
    before = row_counts()
    response = http.post(url, data=data)
    assert response.status_code in (200, 400, 429), response.get_data(as_text=True)[:800]
    assert row_counts() == before


@pytest.mark.parametrize("path", ["/gestionnaire/etablissements/%00", "/gestionnaire/etablissements/A%00B",
                                  "/public/verifier?code=%00", "/gestionnaire/journal?acteur=%00",
                                  "/gestionnaire/etablissements?q=%00", "/gestionnaire/laissez-passer?etablissement=%00",
                                  "/gestionnaire/calendrier/public/%00"])
def test_nul_characters_in_urls_are_refused(app, world, path):
    http = world.clients["admin"]
    response = http.get(path)
    assert response.status_code in (200, 400, 404)


DATES = ["0001-01-01", "01/01/0001", "9999-12-31", "31/12/9999"]


@pytest.mark.parametrize("value", DATES)
def test_audit_filter_dates_at_the_ends_of_the_calendar(app, world, value):
    http = world.clients["admin"]
    for name in ("du", "au"):
        response = http.get("/gestionnaire/journal", query_string={name: value})
        assert response.status_code == 400 and "Date invalide" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59", "01/01/0001 00:00"])
def test_calendar_dates_at_the_ends_of_the_calendar(app, world, value):
    http = world.clients["admin"]
    before = row_counts()
    response = http.post("/gestionnaire/calendrier/public/CAP", data={"ouvert": "y", "debut": value})
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:800]
    if response.status_code == 200:
        assert row_counts() == before


@pytest.mark.parametrize("value", DATES)
def test_birth_and_exam_dates_at_the_ends_of_the_calendar(app, world, value):
    for kind, url, data in [
        ("poste", "/inscription/etape/identite", {**IDENTITE, "date_naissance": value}),
        ("anonyme", "/public/connexion", {"numero": "1", "date_naissance": value, "secret": "x" * 12}),
        ("admin", "/gestionnaire/autorisations-tardives", {"nom": "Durand", "prenom": "Paul", "date_naissance": value,
                                                           "examen": "CAP", "service": "public"}),
        ("admin", "/gestionnaire/sessions/nouvelle", {"annee": "2040", "libelle": "S", "academie": "A",
                                                      "date_examen": value}),
    ]:
        response = world.clients[kind].post(url, data=data)
        assert response.status_code in (200, 302), f"{url} {value}: {response.status_code}"


# --- passwords (items 3, 5, 6) ------------------------------------------------------------


@pytest.mark.parametrize("password", ["azerty123456", "motdepasse12", "onze-signes"])
def test_common_short_or_code_passwords_are_refused(app, world, password):
    http = world.clients["chef"]
    response = http.post("/etablissement/mot-de-passe-inscription",
                         data={"current_password": STRONG_PASSWORD + " A", "new_password": password,
                               "confirmation": password})
    assert response.status_code == 200 and "fr-message--error" in response.get_data(as_text=True)


def test_establishment_code_is_refused_as_a_password(app, world):
    code = world.ids["etab"].code
    response = world.clients["chef"].post("/etablissement/mot-de-passe-inscription",
                                          data={"current_password": STRONG_PASSWORD + " A",
                                                "new_password": code, "confirmation": code})
    assert "fr-message--error" in response.get_data(as_text=True)


def test_stored_hashes_are_salted_and_production_uses_scrypt(app, make_gestionnaire, make_etablissement):
    from portal.config import Config

    a, b = make_gestionnaire(), make_gestionnaire()
    assert a.password_hash != b.password_hash
    assert a.password_hash.split("$")[1] != b.password_hash.split("$")[1]
    etab = make_etablissement(password=STRONG_PASSWORD, inscription_password=STRONG_PASSWORD)
    for value in (a.password_hash, etab.suivi_password_hash, etab.inscription_password_hash):
        assert STRONG_PASSWORD not in value and value.startswith("pbkdf2:sha256:")
    assert Config.PASSWORD_HASH_METHOD == "scrypt"
    with app.test_request_context():
        from werkzeug.security import generate_password_hash

        assert generate_password_hash("x", method=Config.PASSWORD_HASH_METHOD).startswith("scrypt:32768:8:1$")


def test_no_password_is_stored_in_clear(app, world):
    rows = [*db.session.scalars(select(Gestionnaire)), *db.session.scalars(select(Etablissement))]
    for row in rows:
        for column in row.__table__.columns:
            assert getattr(row, column.key) not in (STRONG_PASSWORD, STRONG_PASSWORD + " A")


PASSWORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    min_size=12, max_size=128).filter(lambda p: p.strip().lower() not in common_passwords()
                                                        and strength_problem(p) is None)


def test_any_long_password_round_trips_exactly(app, make_gestionnaire):
    """No truncation, no composition rule, spaces and emoji kept (item 3)."""
    compte = make_gestionnaire()
    current = {"password": STRONG_PASSWORD}

    @settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(new=PASSWORDS)
    def run(new):
        limiter.reset()
        if new == current["password"]:
            return
        http = app.test_client()
        assert http.post("/gestionnaire/connexion", data={"email": compte.email,
                                                          "password": current["password"]}).status_code == 302
        response = http.post("/gestionnaire/mot-de-passe", data={
            "current_password": current["password"], "new_password": new, "confirmation": new})
        assert response.status_code == 302, response.get_data(as_text=True)[:1000]
        current["password"] = new
        other = app.test_client()
        assert other.post("/gestionnaire/connexion", data={"email": compte.email,
                                                           "password": new}).status_code == 302
        truncated = app.test_client().post("/gestionnaire/connexion",
                                           data={"email": compte.email, "password": new[:-1]})
        assert truncated.status_code != 302

    run()
