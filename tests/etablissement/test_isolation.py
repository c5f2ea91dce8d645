"""An establishment never reaches another establishment's registrations."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Inscription


@pytest.fixture
def chez_autre(autre, session_examen, make_inscription):
    specialite = autre.specialites[0]
    return make_inscription(session_examen, specialite, autre, section_europeenne=True,
                            candidat={"nom_naissance": "SECRETVOISIN"})


@pytest.fixture
def chez_moi(etab, bcp, session_examen, make_inscription):
    return make_inscription(session_examen, bcp, etab, section_europeenne=True, candidat={"nom_naissance": "MONELEVE"})


@pytest.mark.parametrize("url", [
    "/etablissement/listes/alphabetique",
    "/etablissement/listes/specialites",
    "/etablissement/listes/formes",
    "/etablissement/listes/alphabetique/csv",
    "/etablissement/listes/alphabetique/pdf",
    "/etablissement/validation",
])
def test_lists_show_only_own_registrations(logged, chez_autre, chez_moi, url):
    response = logged.get(url)
    assert response.status_code == 200
    body = response.data
    if response.mimetype == "application/pdf":
        from .test_listes import pdf_text

        body = pdf_text(body).encode()
    assert b"MONELEVE" in body
    assert b"SECRETVOISIN" not in body


def test_other_specialty_is_not_reachable(logged, autre, chez_autre, chez_moi):
    foreign = autre.specialites[0].id
    for url in (f"/etablissement/listes/specialite?specialite={foreign}",
                f"/etablissement/listes/specialite/csv?specialite={foreign}",
                f"/etablissement/listes/specialite/pdf?specialite={foreign}",
                f"/etablissement/validation?specialite={foreign}",
                f"/etablissement/confirmations/pdf?specialite={foreign}",
                "/etablissement/confirmations/pdf?specialite=999999"):
        assert logged.get(url).status_code == 404, url


def test_forged_cancellation_id_is_404_and_changes_nothing(logged, chez_autre, chez_moi):
    response = logged.post("/etablissement/validation", data={
        "ids": [str(chez_moi.id), str(chez_autre.id)], "annulee": [str(chez_moi.id), str(chez_autre.id)]})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Inscription, chez_autre.id).statut == "active"
    assert db.session.get(Inscription, chez_moi.id).statut == "active"


def test_sequential_ids_beyond_own_rows_are_refused(logged, chez_autre, chez_moi):
    top = db.session.scalar(select(Inscription.id).order_by(Inscription.id.desc()))
    for forged in range(1, top + 6):
        if forged == chez_moi.id:
            continue
        response = logged.post("/etablissement/validation", data={"ids": [str(forged)], "annulee": [str(forged)]})
        assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Inscription, chez_autre.id).statut == "active"


def test_pupils_of_another_establishment_are_not_listed(logged, autre, session_examen, make_eleve, examens):
    make_eleve(autre, session_examen, examens["BCP"], nom="ELEVEVOISIN")
    assert "ELEVEVOISIN" not in logged.get("/etablissement/eleves-non-inscrits").text
    assert b"ELEVEVOISIN" not in logged.get("/etablissement/eleves-non-inscrits/csv").data


def test_anonymous_visitor_is_sent_to_login(client, chez_moi):
    for url in ("/etablissement/", "/etablissement/listes/alphabetique/csv", "/etablissement/validation"):
        response = client.get(url)
        assert response.status_code == 302 and "/etablissement/connexion" in response.headers["Location"]
