"""Closed while filling, the calendar of the specialty step and the step counter on the
school computer (issue 15, points 5 and 15); the public side is in
tests/public/test_fermeture_et_etapes.py, whose helpers these use."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.etapes import ETAPES
from portal.models import Inscription
from tests.inscription.conftest import text
from tests.inscription.test_inscription_flow import fill_until_review
from tests.public.test_fermeture_et_etapes import CLOSED_SINCE, _calendar, _counters, close_exam


def count() -> int:
    return db.session.scalar(select(func.count(Inscription.id)))


def test_pupil_exam_closed_while_on_review_says_since_when_and_keeps_the_answers(client, poste, open_service):
    fill_until_review(client, poste.specialites["CAP"])
    assert client.get("/inscription/recapitulatif").status_code == 200
    close_exam(poste.session, "etablissement", poste.specialites["CAP"].examen, open_service)
    response = client.post("/inscription/recapitulatif")
    assert response.headers["Location"].endswith("/inscription/etape/specialite")
    page = text(client.get("/inscription/etape/specialite"))
    assert CLOSED_SINCE in page and "Vos autres réponses sont conservées" in page
    assert count() == 0
    assert "Lefèvre" in text(client.get("/inscription/etape/identite"))


def test_pupil_specialty_step_lists_the_exams_the_school_prepares(client, poste):
    fill_until_review(client, poste.specialites["CAP"])
    page = _calendar(text(client.get("/inscription/etape/specialite")))
    assert "Ouvert CAP" in page and "Ouvert BCP" in page and "BTS" not in page


@pytest.mark.parametrize("specialite, asks_form", [("CAP", False), ("BCP", True)])
def test_pupil_step_counter_says_the_same_total_on_every_page(client, poste, specialite, asks_form):
    fill_until_review(client, poste.specialites[specialite])
    urls = ["/inscription/etape/identite", "/inscription/etape/contact", "/inscription/etape/specialite"]
    if asks_form:
        urls.append("/inscription/etape/forme")
        client.post("/inscription/etape/forme", data={"forme": "globale", "section_europeenne": "non"})
    urls.append("/inscription/recapitulatif")
    counters = _counters(text(client.get(url)) for url in urls)
    assert {total for _, total in counters} == {len(ETAPES)}
    assert counters[-1] == (len(ETAPES), len(ETAPES))
