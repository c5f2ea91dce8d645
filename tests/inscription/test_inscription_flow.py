"""The in-school registration service through the test client."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Inscription, OuvertureService, utcnow
from portal.services import verrou
from tests.conftest import STRONG_PASSWORD

from .conftest import IDENTITE, text


def count_inscriptions() -> int:
    return db.session.scalar(select(func.count(Inscription.id)))


def fill_until_review(client, specialite, identite=None):
    for step, data in (("identite", {**IDENTITE, **(identite or {})}), ("contact", {"pays": "France"}),
                       ("specialite", {"specialite": str(specialite.id)})):
        response = client.post(f"/inscription/etape/{step}", data=data)
        assert response.status_code == 302, text(response)


def test_pupil_registers_step_by_step_and_gets_number_and_pdf(client, poste, register):
    first = text(client.get("/inscription/etape/identite"))
    assert "Étape 1 sur 5" in first and 'action="/inscription/etape/identite"' in first
    response = register(poste.specialites["BCP"], forme="progressive", europe="oui")
    assert response.headers["Location"].endswith("/inscription/confirmation")
    page = text(client.get("/inscription/confirmation"))
    assert "1-0" in page and "/inscription/confirmation/pdf" in page and "Nouvelle inscription" in page
    inscription = db.session.scalar(select(Inscription))
    assert (inscription.etablissement_id, inscription.forme, inscription.section_europeenne) == (
        poste.etab.id, "progressive", True)
    assert inscription.candidat.nom_naissance == "Lefèvre" and inscription.source == "etablissement"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inscription.creee")) is not None
    pdf = client.get("/inscription/confirmation/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    content = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "1-0" in content


def test_form_step_shows_five_steps_when_the_specialty_asks_it(client, poste):
    fill_until_review(client, poste.specialites["BCP"])
    page = text(client.get("/inscription/etape/forme"))
    assert "Étape 4 sur 5" in page and 'name="forme"' in page and 'name="section_europeenne"' in page


def test_review_page_lists_answers_with_modify_links(client, poste):
    fill_until_review(client, poste.specialites["CAP"])
    page = text(client.get("/inscription/recapitulatif"))
    assert "Étape 5 sur 5" in page and "Lefèvre" in page and "Cuisine" in page
    assert page.count(">Modifier<") == 3
    assert 'href="/inscription/etape/identite"' in page


def test_new_registration_frees_the_computer_of_the_previous_pupil(client, poste, register):
    register(poste.specialites["CAP"])
    response = client.post("/inscription/nouvelle")
    assert response.headers["Location"].endswith("/inscription/etape/identite")
    page = client.get("/inscription/etape/identite")
    assert page.status_code == 200 and "Lefèvre" not in text(page)
    assert client.get("/inscription/confirmation").status_code == 302
    assert client.get("/inscription/confirmation/pdf").status_code == 404
    assert client.get("/inscription/recapitulatif").headers["Location"].endswith("/etape/identite")


def test_steps_cannot_be_skipped(client, poste):
    response = client.get("/inscription/etape/specialite")
    assert response.headers["Location"].endswith("/inscription/etape/identite")


def test_closing_the_computer_ends_its_session(client, poste):
    client.post("/inscription/fermer")
    assert client.get("/inscription/etape/identite").headers["Location"].endswith("/inscription/")


def test_wrong_password_is_refused_then_throttled_even_with_the_right_one(client, ecole, open_poste):
    for _ in range(5):
        assert "Code d'établissement ou mot de passe incorrect" in text(open_poste(ecole.etab, "mauvais"))
    blocked = open_poste(ecole.etab, STRONG_PASSWORD)
    assert blocked.status_code == 429 and "Trop de tentatives" in text(blocked)
    assert client.get("/inscription/etape/identite").status_code == 302


def test_default_registration_password_cannot_open_a_computer(client, ecole, open_poste, make_etablissement):
    etab = make_etablissement(specialites=list(ecole.specialites.values()), service_ouvert=True)
    page = text(open_poste(etab))
    assert "mot de passe par défaut" in page and "changer" in page
    assert client.get("/inscription/etape/identite").status_code == 302


@pytest.mark.parametrize("case, message", [
    ("etab_ferme", "service d'inscription de l'établissement est fermé"),
    ("rectorat_ferme", "fermé par le rectorat"),
])
def test_computer_does_not_open_while_a_service_is_closed(client, ecole, open_poste, case, message):
    if case == "etab_ferme":
        ecole.etab.service_ouvert = False
    else:
        for row in db.session.scalars(select(OuvertureService)):
            row.ouvert = False
    db.session.commit()
    page = text(open_poste(ecole.etab, STRONG_PASSWORD))
    assert message in page
    assert 'id="calendrier-examens"' in page  # which exams open when, closed since when
    assert client.get("/inscription/etape/identite").status_code == 302


def test_calendar_is_obeyed_to_the_minute(client, session_examen, make_specialite, make_etablissement, publish,
                                          open_service, open_poste):
    cap = make_specialite("CAP")
    publish(session_examen, cap)
    etab = make_etablissement(inscription_password=STRONG_PASSWORD, specialites=[cap], service_ouvert=True)
    debut = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
    open_service(session_examen, "etablissement", debut=debut, fin=debut + timedelta(days=10))
    with time_machine.travel(debut - timedelta(minutes=1), tick=False):
        page = text(open_poste(etab, STRONG_PASSWORD))
        assert "pas encore ouvert" in page and "Ouverture prévue le" in page
    with time_machine.travel(debut + timedelta(minutes=1), tick=False):
        assert open_poste(etab, STRONG_PASSWORD).status_code == 302
        assert client.get("/inscription/etape/identite").status_code == 200
    with time_machine.travel(debut + timedelta(days=10, minutes=-1), tick=False):
        assert open_poste(etab, STRONG_PASSWORD).status_code == 302
        with time_machine.travel(debut + timedelta(days=10, minutes=1), tick=False):
            page = client.get("/inscription/etape/identite")
            assert page.status_code == 403 and "clos depuis" in text(page)


def test_open_computer_stops_when_the_service_closes(client, poste):
    poste.etab.service_ouvert = False
    db.session.commit()
    page = client.get("/inscription/etape/identite")
    assert page.status_code == 403 and "fermé" in text(page)


def test_locked_database_refuses_the_submission_and_writes_nothing(client, poste):
    fill_until_review(client, poste.specialites["CAP"])
    verrou.acquire(acteur="gestionnaire@test", gestionnaire_id=None, motif="chargement")
    db.session.commit()
    review = client.get("/inscription/recapitulatif")
    assert review.status_code == 200 and "verrouillée" in text(review)
    response = client.post("/inscription/recapitulatif")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert count_inscriptions() == 0
    verrou.release(acteur="gestionnaire@test")
    db.session.commit()
    assert client.post("/inscription/recapitulatif").status_code == 302
    assert count_inscriptions() == 1


def test_locked_database_refuses_to_open_a_computer_saying_since_when_why_and_until_when(
        client, ecole, open_poste):
    verrou.acquire(acteur="gestionnaire@test", gestionnaire_id=None, motif="base élèves du lycée")
    db.session.commit()
    page = text(open_poste(ecole.etab, STRONG_PASSWORD))
    assert "La base est verrouillée depuis le " in page and "(base élèves du lycée)" in page
    assert "au plus tard le " in page and "quelques minutes" not in page


def test_same_pupil_cannot_register_twice_for_one_exam(client, poste, register):
    register(poste.specialites["CAP"])
    client.post("/inscription/nouvelle")
    page = register(poste.specialites["CAP"], identite={"nom_naissance": "LEFEVRE", "prenom1": "lea"})
    assert page.status_code == 200
    assert "Une inscription active existe déjà" in text(page)
    assert count_inscriptions() == 1


@pytest.mark.parametrize("field, value, message", [
    ("nom_naissance", "R2-D2", "Utilisez uniquement des lettres"),
    ("nom_naissance", "A" * 61, "60 caractères au maximum"),
    ("prenom1", "", "Ce champ est obligatoire"),
    ("date_naissance", "2099-01-01", "ne peut pas être dans le futur"),
    ("date_naissance", "01/01/1901", "plus de 80 ans"),
    ("date_naissance", "31/02/2008", "Saisissez une date valide"),
    ("ine", "12345", "L'INE compte 11 caractères"),
    ("sexe", "X", "Indiquez le sexe"),
    ("statut", "apprenti", "Choisissez un statut dans la liste"),
])
def test_identity_is_validated_with_french_messages_and_summary(client, poste, field, value, message):
    page = client.post("/inscription/etape/identite", data={**IDENTITE, field: value})
    html = text(page)
    assert page.status_code == 200 and "Le formulaire contient" in html
    assert message in html and f"{field}-desc-error" in html


def test_names_with_accents_hyphens_and_apostrophes_are_accepted(client, poste):
    data = {**IDENTITE, "nom_naissance": "N'Diaye-Lefèvre", "prenom1": "Zoé Anaïs", "ine": "123456789ab"}
    assert client.post("/inscription/etape/identite", data=data).status_code == 302


@pytest.mark.parametrize("telephone, ok", [("06 12 34 56 78", True), ("+33 6 12 34 56 78", True),
                                           ("0612345678", True), ("12", False), ("06-12-ab", False)])
def test_phone_number_format(client, poste, telephone, ok):
    client.post("/inscription/etape/identite", data=IDENTITE)
    response = client.post("/inscription/etape/contact", data={"telephone": telephone, "pays": "France"})
    assert (response.status_code == 302) is ok


def test_age_must_be_plausible_for_the_exam(client, poste, make_specialite, publish):
    bts = make_specialite("BTS")
    publish(poste.session, bts)
    poste.etab.specialites.append(bts)
    db.session.commit()
    client.post("/inscription/etape/identite", data={**IDENTITE, "date_naissance": "2012-01-01"})
    client.post("/inscription/etape/contact", data={"pays": "France"})
    page = client.post("/inscription/etape/specialite", data={"specialite": str(bts.id)})
    assert "Pour le BTS, le candidat doit avoir entre 16 et 70 ans" in text(page)
    assert client.post("/inscription/etape/specialite",
                       data={"specialite": str(poste.specialites["CAP"].id)}).status_code == 302


def test_only_published_specialties_prepared_by_the_school_are_offered(client, poste, make_specialite, publish):
    unpublished = make_specialite("CAP", libelle="Non publiée")
    publish(poste.session, unpublished, statut="pret")
    other_school = make_specialite("CAP", libelle="Autre lycée")
    publish(poste.session, other_school)
    poste.etab.specialites.append(unpublished)
    db.session.commit()
    client.post("/inscription/etape/identite", data=IDENTITE)
    client.post("/inscription/etape/contact", data={"pays": "France"})
    page = text(client.get("/inscription/etape/specialite"))
    assert "Cuisine" in page and "Non publiée" not in page and "Autre lycée" not in page
    for forged in (unpublished.id, other_school.id, 999999, "abc"):
        response = client.post("/inscription/etape/specialite", data={"specialite": str(forged)})
        assert response.status_code == 200
        assert "Choisissez une spécialité dans la liste" in text(response)


def test_closed_exam_is_not_offered(client, poste, open_service, examens):
    open_service(poste.session, "etablissement", examens["CAP"], ouvert=False)
    client.post("/inscription/etape/identite", data=IDENTITE)
    client.post("/inscription/etape/contact", data={"pays": "France"})
    page = text(client.get("/inscription/etape/specialite"))
    assert "Commerce" in page and "Cuisine" not in page


def test_forged_form_and_extra_fields_are_refused_or_ignored(client, poste, make_etablissement):
    other = make_etablissement()
    client.post("/inscription/etape/identite", data={**IDENTITE, "etablissement_id": other.id})
    client.post("/inscription/etape/contact", data={"pays": "France"})
    client.post("/inscription/etape/specialite", data={"specialite": str(poste.specialites["BCP"].id)})
    page = client.post("/inscription/etape/forme", data={"forme": "ponctuelle", "section_europeenne": "oui"})
    assert "Choisissez une forme de passage" in text(page)
    client.post("/inscription/etape/forme", data={"forme": "globale", "section_europeenne": "non"})
    client.post("/inscription/recapitulatif", data={"etablissement_id": other.id, "numero": 77})
    inscription = db.session.scalar(select(Inscription))
    assert inscription.etablissement_id == poste.etab.id and inscription.numero == 1
