"""The public registration service through the test client."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Inscription, InscriptionVersion, OuvertureService, utcnow
from portal.services import verrou
from portal.services.inscriptions import format_verification_code, set_cancelled
from tests.inscription.conftest import IDENTITE, text

SECRET = "mon chat adore les croquettes"
PUBLIC_IDENTITE = {**IDENTITE, "statut": "individuel", "date_naissance": "1990-02-03"}
PUBLIC_CONTACT = {"email": "lea@example.org", "telephone": "+33 6 12 34 56 78", "adresse1": "12 rue des Lilas",
                  "adresse2": "", "code_postal": "69001", "commune": "Lyon", "pays": "France"}


@pytest.fixture
def catalogue(session_examen, make_specialite, publish, open_service):
    cap = make_specialite("CAP", libelle="Cuisine")
    bp = make_specialite("BP", libelle="Coiffure", forme_progressive=True)
    hidden = make_specialite("CAP", libelle="Non publiée")
    publish(session_examen, cap, bp)
    open_service(session_examen, "public")
    return {"CAP": cap, "BP": bp, "hidden": hidden}


def fill(client, specialite, *, identite=None, contact=None, forme=None, prefix="/public/inscription"):
    steps = [("identite", {**PUBLIC_IDENTITE, **(identite or {})}),
             ("contact", {**PUBLIC_CONTACT, **(contact or {})}), ("specialite", {"specialite": str(specialite.id)})]
    for step, data in steps:
        response = client.post(f"{prefix}/{step}", data=data)
        if response.status_code != 302:
            return response
    if response.headers["Location"].endswith("/forme"):
        response = client.post(f"{prefix}/forme", data={"forme": forme or "globale"})
    return response


def register(client, specialite, *, secret=SECRET, **kwargs):
    response = fill(client, specialite, **kwargs)
    if response.status_code != 302:
        return response
    return client.post("/public/inscription/recapitulatif", data={"secret": secret, "secret_confirmation": secret})


def login(client, numero, secret=SECRET, date_naissance="1990-02-03"):
    return client.post("/public/connexion", data={"numero": numero, "date_naissance": date_naissance,
                                                  "secret": secret})


def only_inscription() -> Inscription:
    return db.session.scalar(select(Inscription))


def test_candidate_registers_and_lands_on_their_registration(client, catalogue):
    assert "S'inscrire" in text(client.get("/public/"))
    first = text(client.get("/public/inscription/identite"))
    assert "Étape 1 sur 5" in first and 'action="/public/inscription/identite"' in first
    skipped = client.get("/public/inscription/specialite")
    assert skipped.headers["Location"].endswith("/public/inscription/identite")
    response = register(client, catalogue["BP"], forme="progressive")
    assert response.status_code == 302, text(response)
    inscription = only_inscription()
    assert response.headers["Location"].endswith(f"/public/inscriptions/{inscription.id}")
    assert (inscription.source, inscription.etablissement_id, inscription.forme) == ("public", None, "progressive")
    assert inscription.secret_hash and SECRET not in inscription.secret_hash
    assert inscription.candidat.code_postal == "69001"
    page = text(client.get(response.headers["Location"]))
    assert "1-0" in page and "Cuisine" not in page and "Coiffure" in page and "Modifier mon inscription" in page
    pdf = client.get(f"/public/inscriptions/{inscription.id}/pdf")
    assert pdf.status_code == 200
    assert "1-0" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "inscription.creee"))


def test_only_published_specialties_of_open_exams_are_offered(client, catalogue, open_service, session_examen,
                                                                examens):
    open_service(session_examen, "public", examens["BP"], ouvert=False)
    fill(client, catalogue["CAP"])
    page = text(client.get("/public/inscription/specialite"))
    assert "Cuisine" in page and "Coiffure" not in page and "Non publiée" not in page
    forged = client.post("/public/inscription/specialite", data={"specialite": str(catalogue["hidden"].id)})
    assert "Choisissez une spécialité dans la liste" in text(forged)


@pytest.mark.parametrize("contact, message", [
    ({"adresse1": ""}, "Saisissez votre adresse postale"),
    ({"email": ""}, "Saisissez votre adresse électronique"),
    ({"email": "pas-une-adresse"}, "Saisissez une adresse électronique valide"),
    ({"code_postal": "6900"}, "En France, le code postal compte 5 chiffres"),
    ({"code_postal": ""}, "Saisissez le code postal"),
])
def test_postal_address_and_email_are_checked(client, catalogue, contact, message):
    client.post("/public/inscription/identite", data=PUBLIC_IDENTITE)
    page = client.post("/public/inscription/contact", data={**PUBLIC_CONTACT, **contact})
    assert page.status_code == 200 and message in text(page) and "Le formulaire contient" in text(page)


def test_an_address_abroad_needs_no_french_postal_code(client, catalogue):
    client.post("/public/inscription/identite", data=PUBLIC_IDENTITE)
    abroad = {**PUBLIC_CONTACT, "code_postal": "B-1000", "commune": "Bruxelles", "pays": "Belgique"}
    assert client.post("/public/inscription/contact", data=abroad).status_code == 302


def test_public_statuses_only(client, catalogue):
    page = text(client.get("/public/inscription/identite"))
    assert 'value="individuel"' in page and 'value="formation_continue"' in page
    assert 'value="scolaire"' not in page
    refused = client.post("/public/inscription/identite", data={**PUBLIC_IDENTITE, "statut": "scolaire"})
    assert "Choisissez un statut dans la liste" in text(refused)


@pytest.mark.parametrize("secret, confirmation, message", [
    ("court", "court", "au moins 12 caractères"),
    (SECRET, SECRET + "x", "Les deux saisies du code secret sont différentes"),
])
def test_secret_must_be_long_and_confirmed(client, catalogue, secret, confirmation, message):
    fill(client, catalogue["CAP"])
    page = client.post("/public/inscription/recapitulatif", data={"secret": secret,
                                                                  "secret_confirmation": confirmation})
    assert page.status_code == 200 and message in text(page)
    assert only_inscription() is None


def test_public_service_closed_says_why(client, catalogue):
    for row in db.session.scalars(select(OuvertureService)):
        row.ouvert = False
    db.session.commit()
    page = client.get("/public/inscription/identite")
    assert page.status_code == 403 and "fermé par le rectorat" in text(page)


def test_locked_database_refuses_the_registration_and_writes_nothing(client, catalogue):
    fill(client, catalogue["CAP"])
    verrou.acquire(acteur="g@test", gestionnaire_id=None, motif="chargement")
    db.session.commit()
    response = client.post("/public/inscription/recapitulatif", data={"secret": SECRET,
                                                                      "secret_confirmation": SECRET})
    assert response.status_code == 503
    assert only_inscription() is None


def test_duplicate_public_registration_is_refused_with_what_to_do(client, app, catalogue):
    register(client, catalogue["CAP"])
    other = app.test_client()
    page = register(other, catalogue["CAP"], identite={"nom_naissance": "LEFEVRE"})
    assert page.status_code == 200
    assert "Une inscription active existe déjà" in text(page) and "revenez sur votre inscription" in text(page)
    assert db.session.scalar(select(func.count(Inscription.id))) == 1


# --- coming back ---------------------------------------------------------------------


@pytest.fixture
def inscrit(client, app, catalogue):
    """A public candidate registered from another browser; returns the registration."""
    register(app.test_client(), catalogue["BP"], forme="globale")
    return only_inscription()


def test_candidate_comes_back_with_number_birth_date_and_secret(client, inscrit):
    response = login(client, "1-0")
    assert response.headers["Location"].endswith(f"/public/inscriptions/{inscrit.id}")
    assert "1-0" in text(client.get(response.headers["Location"]))


@pytest.mark.parametrize("numero, secret, naissance", [
    ("1", "un autre secret bien long", "1990-02-03"), ("1", SECRET, "1990-02-04"), ("2", SECRET, "1990-02-03")])
def test_wrong_login_gets_one_message_whatever_is_wrong(client, inscrit, numero, secret, naissance):
    page = login(client, numero, secret, naissance)
    assert "Ces informations ne permettent pas de retrouver une inscription" in text(page)
    assert client.get(f"/public/inscriptions/{inscrit.id}").status_code == 302


def test_login_is_throttled_even_with_the_right_secret(client, inscrit):
    for _ in range(5):
        login(client, "1", "un autre secret bien long")
    blocked = login(client, "1")
    assert blocked.status_code == 429 and "Trop de tentatives" in text(blocked)


def test_candidate_cannot_see_another_registration(client, app, catalogue, inscrit):
    register(client, catalogue["CAP"], identite={"nom_naissance": "Martin"})
    mine = db.session.scalar(select(Inscription).where(Inscription.id != inscrit.id))
    assert client.get(f"/public/inscriptions/{mine.id}").status_code == 200
    for url in (f"/public/inscriptions/{inscrit.id}", f"/public/inscriptions/{inscrit.id}/pdf",
                f"/public/inscriptions/{inscrit.id}/modifier/identite"):
        assert client.get(url).status_code == 404
    assert client.post(f"/public/inscriptions/{inscrit.id}/modifier").status_code == 404


def test_logout_ends_every_copy_of_the_session(client, app, inscrit):
    login(client, "1")
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get(f"/public/inscriptions/{inscrit.id}").status_code == 200
    client.post("/public/deconnexion")
    assert copy.get(f"/public/inscriptions/{inscrit.id}").status_code == 302


def test_cancelled_registration_shows_as_cancelled_and_cannot_be_modified(client, inscrit):
    set_cancelled(inscrit, True, par="rectorat")
    db.session.commit()
    login(client, "1")
    page = text(client.get(f"/public/inscriptions/{inscrit.id}"))
    assert "Annulée" in page and "Modifier mon inscription" not in page
    response = client.post(f"/public/inscriptions/{inscrit.id}/modifier")
    assert response.status_code == 302
    assert "annulée" in text(client.get(response.headers["Location"]))


# --- modification and verification --------------------------------------------------


def modify(client, inscription, **changes):
    client.post(f"/public/inscriptions/{inscription.id}/modifier")
    prefix = f"/public/inscriptions/{inscription.id}/modifier"
    response = fill(client, changes.pop("specialite", inscription.specialite), prefix=prefix, **changes)
    if response.status_code != 302:
        return response
    return client.post(f"{prefix}/recapitulatif")


def test_modification_raises_the_version_and_keeps_the_history(client, inscrit, catalogue):
    first_code = inscrit.versions[0].code_verification
    login(client, "1")
    start = client.post(f"/public/inscriptions/{inscrit.id}/modifier")
    page = text(client.get(start.headers["Location"]))
    assert 'value="Lefèvre"' in page and 'value="1990-02-03"' in page  # prefilled from the registration
    response = modify(client, inscrit, contact={"commune": "Villeurbanne", "code_postal": "69100"},
                      specialite=catalogue["CAP"])
    assert response.headers["Location"].endswith(f"/public/inscriptions/{inscrit.id}")
    db.session.expire_all()
    inscription = db.session.get(Inscription, inscrit.id)
    assert inscription.numero_version == "1-1" and inscription.specialite_id == catalogue["CAP"].id
    assert inscription.candidat.commune == "Villeurbanne"
    versions = db.session.scalars(select(InscriptionVersion).where(InscriptionVersion.inscription_id == inscrit.id)
                                  .order_by(InscriptionVersion.version)).all()
    assert [v.version for v in versions] == [0, 1]
    assert versions[0].donnees["candidat"]["commune"] == "Lyon"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inscription.modifiee"))
    assert event.details["avant"]["commune"] == "Lyon" and event.details["apres"]["commune"] == "Villeurbanne"
    assert "1-1" in text(client.get(f"/public/inscriptions/{inscrit.id}"))

    old = text(client.get("/public/verifier", query_string={"code": format_verification_code(first_code).lower()}))
    assert "Confirmation remplacée" in old and "1-1" in old
    latest = text(client.get("/public/verifier", query_string={"code": versions[1].code_verification}))
    assert "Confirmation valide" in latest and "L. L." in latest and "CAP" in latest
    assert "Lefèvre" not in latest and "1990" not in latest and "Lyon" not in latest


def test_modification_without_change_keeps_the_version(client, inscrit):
    login(client, "1")
    modify(client, inscrit)
    db.session.expire_all()
    assert db.session.get(Inscription, inscrit.id).version == 0


def test_modification_is_refused_once_the_service_is_closed(client, inscrit):
    login(client, "1")
    for row in db.session.scalars(select(OuvertureService)):
        row.fin = utcnow() - timedelta(minutes=1)
        row.debut = utcnow() - timedelta(days=3)
    db.session.commit()
    assert "Modifier mon inscription" not in text(client.get(f"/public/inscriptions/{inscrit.id}"))
    response = client.post(f"/public/inscriptions/{inscrit.id}/modifier")
    assert response.headers["Location"].endswith(f"/public/inscriptions/{inscrit.id}")


def test_verification_reports_cancelled_and_unknown_codes(client, inscrit):
    code = inscrit.versions[0].code_verification
    set_cancelled(inscrit, True, par="rectorat")
    db.session.commit()
    assert "Inscription annulée" in text(client.get("/public/verifier", query_string={"code": code}))
    assert "Aucune confirmation ne correspond" in text(client.get("/public/verifier",
                                                                  query_string={"code": "AAAA-BBBB-CCCC"}))


def test_verification_is_rate_limited(client, inscrit):
    for _ in range(30):
        assert client.get("/public/verifier", query_string={"code": "AAAABBBBCCCC"}).status_code == 200
    assert client.get("/public/verifier", query_string={"code": "AAAABBBBCCCC"}).status_code == 429


def test_my_registration_shows_the_address_without_an_empty_second_line(client, catalogue):
    # Issue 15, point 20: no " , " where the second address line is empty.
    register(client, catalogue["CAP"])
    page = text(client.get(f"/public/inscriptions/{only_inscription().id}"))
    assert "12 rue des Lilas, 69001 Lyon, France" in page and " , " not in page
