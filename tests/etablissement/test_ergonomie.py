"""The head's pages when no specialty was chosen, and specialties named and grouped by exam
(issue 15, points 7 and 19)."""
from __future__ import annotations

import re

import pytest

from tests.etablissement.test_listes import inscrits  # noqa: F401 - fixture


@pytest.mark.parametrize("url", [
    "/etablissement/listes/specialite?specialite=0",
    "/etablissement/listes/specialite?specialite=",
    "/etablissement/listes/specialite?specialite=abc",
    "/etablissement/listes/specialite/pdf",
    "/etablissement/listes/specialite/csv?specialite=0",
    "/etablissement/confirmations/pdf?specialite=0",
    "/etablissement/confirmations/pdf",
])
def test_no_specialty_chosen_is_said_on_the_page_not_a_404(logged, session_examen, url):
    response = logged.get(url)
    assert response.status_code == 400
    assert 'id="resume-erreurs"' in response.text
    assert "Sélectionnez une spécialité dans la liste." in response.text
    assert "<title>Erreur : " in response.text
    # The drop-down list is there again, marked in error, to choose one.
    assert 'class="fr-select-group fr-select-group--error"' in response.text


def test_the_specialty_chooser_without_a_choice_is_still_a_plain_page(logged, session_examen):
    response = logged.get("/etablissement/listes/specialite")
    assert response.status_code == 200 and 'id="resume-erreurs"' not in response.text


def test_a_specialty_of_another_establishment_stays_not_found(logged, autre, session_examen):
    foreign = autre.specialites[0].id
    assert logged.get(f"/etablissement/listes/specialite?specialite={foreign}").status_code == 404
    assert logged.get(f"/etablissement/confirmations/pdf?specialite={foreign}").status_code == 404


def test_validation_page_with_every_specialty_shows_all(logged, inscrits):  # noqa: F811
    response = logged.get("/etablissement/validation?specialite=0")
    assert response.status_code == 200
    assert "MARTIN" in response.text and "BERNARD" in response.text
    assert "Toutes les spécialités" in response.text


def _optgroups(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', html, re.DOTALL)


@pytest.mark.parametrize("url", ["/etablissement/listes", "/etablissement/confirmations",
                                 "/etablissement/validation", "/etablissement/listes/specialite"])
def test_specialty_lists_are_grouped_by_exam_with_labels(logged, session_examen, url):
    html = logged.get(url).text
    groups = _optgroups(html)
    # The exam's order (BCP before CAP), each group named by the exam's label.
    assert [label for label, _ in groups] == ["BCP – Baccalauréat professionnel",
                                              "CAP – Certificat d&#39;aptitude professionnelle"]
    assert "BCP001 · Métiers de l&#39;électricité" in groups[0][1]
    assert "CAP001 · Cuisine" in groups[1][1]


def test_validation_page_and_dashboard_name_exam_and_specialty(logged, inscrits):  # noqa: F811
    validation = logged.get("/etablissement/validation").text
    assert "CAP CAP001 · Cuisine" in validation
    assert "BCP BCP001 · Métiers de l&#39;électricité" in validation
    dashboard = logged.get("/etablissement/").text
    # Rows grouped under a header naming the exam.
    assert re.search(r'<th scope="colgroup"[^>]*>BCP – Baccalauréat professionnel</th>', dashboard)
    assert re.search(r'<th scope="colgroup"[^>]*>CAP – Certificat d&#39;aptitude professionnelle</th>', dashboard)
    assert "CAP001 · Cuisine" in dashboard


# --- point 18: page titles name the service; point 20: the lock page ---------------------


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.DOTALL).group(1)


@pytest.mark.parametrize("url, expected", [
    ("/etablissement/", "Tableau de bord – Établissement – Préinscription examens professionnels"),
    ("/etablissement/listes", "Listes de candidats – Établissement – Préinscription examens professionnels"),
    ("/etablissement/nulle-part", "Page introuvable – Établissement – Préinscription examens professionnels"),
    ("/", "Accueil – Préinscription examens professionnels"),
    ("/public/", "Inscription à titre individuel – Candidat individuel – Préinscription examens professionnels"),
    ("/inscription/", "Ouvrir un poste d'inscription – Inscription en établissement – "
                      "Préinscription examens professionnels"),
])
def test_page_titles_name_the_service(logged, session_examen, url, expected):
    assert _title(logged.get(url).text) == expected


def test_an_error_page_leads_back_to_its_service_home(logged, session_examen):
    page = logged.get("/etablissement/nulle-part")
    assert page.status_code == 404
    assert re.search(r'<a class="fr-btn" href="/etablissement/" id="retour-service">Retour au tableau de bord</a>',
                     page.text)


def test_lock_page_says_since_when_why_until_when_and_the_way_back(app, logged, inscrits):  # noqa: F811
    from datetime import datetime

    from portal.extensions import db
    from portal.models import Verrou
    from portal.services import verrou

    verrou.acquire(acteur="admin@example.org", gestionnaire_id=None, motif="chargement des bases élèves")
    lock = db.session.get(Verrou, verrou.NOM)
    lock.depuis, lock.expire_at = datetime(2026, 12, 2, 9, 5), datetime(2026, 12, 2, 23, 30)  # UTC
    db.session.commit()
    martin = inscrits["martin"]
    page = logged.post("/etablissement/validation", data={"ids": [str(martin.id)], "annulee": [str(martin.id)]})
    assert page.status_code == 503 and page.headers["Retry-After"] == "300"
    text = " ".join(page.text.split())
    assert "Base momentanément verrouillée" in text
    assert "depuis le 02/12/2026 à 10h05" in text                      # since when (Paris time)
    assert "(chargement des bases élèves)" in text                     # why
    assert "au plus tard le 03/12/2026 à 00h30" in text                 # until when (Paris time)
    assert "réessayer quelques minutes" not in text and "réessayez dans quelques minutes" not in text
    assert 'href="/etablissement/" id="retour-service">Retour au tableau de bord</a>' in page.text
