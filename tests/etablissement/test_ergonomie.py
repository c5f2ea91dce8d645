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
