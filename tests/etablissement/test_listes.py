"""The five lists on screen, as PDF and as CSV; pupils who have not registered."""
from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def parse_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode("utf-8"))
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def inscrits(etab, bcp, cap, session_examen, make_inscription):
    """Three registrations of etab (one cancelled, one European, one progressive)."""
    return {
        "martin": make_inscription(session_examen, bcp, etab, section_europeenne=True,
                                   candidat={"nom_naissance": "MARTIN", "prenom1": "Léa", "nom_usage": "DURAND"}),
        "bernard": make_inscription(session_examen, cap, etab, candidat={"nom_naissance": "BERNARD", "prenom1": "Hugo"}),
        "albert": make_inscription(session_examen, bcp, etab, forme="progressive", statut="annulee",
                                   candidat={"nom_naissance": "ALBERT", "prenom1": "Inès"}),
    }


def positions(text: str, *names: str) -> list[int]:
    return [text.index(name) for name in names]


def test_alphabetical_list_on_screen_marks_cancelled(logged, inscrits):
    page = logged.get("/etablissement/listes/alphabetique")
    assert page.status_code == 200
    a, b, m = positions(page.text, "ALBERT", "BERNARD", "MARTIN")
    assert a < b < m
    assert "Annulée" in page.text
    filtered = logged.get("/etablissement/listes/alphabetique?annulees=exclure")
    assert "ALBERT" not in filtered.text and "MARTIN" in filtered.text


def test_list_is_paginated_by_fifty(logged, etab, cap, session_examen, make_inscription):
    for n in range(52):
        make_inscription(session_examen, cap, etab, candidat={"nom_naissance": f"NOM{n:03d}"})
    first = logged.get("/etablissement/listes/alphabetique")
    assert "NOM049" in first.text and "NOM050" not in first.text
    second = logged.get("/etablissement/listes/alphabetique?page=2")
    assert "NOM050" in second.text and "NOM051" in second.text and "NOM000" not in second.text


def test_european_list_only_where_the_establishment_runs_sections(logged, etab, inscrits):
    assert logged.get("/etablissement/listes/europeenne").status_code == 404
    logged.post("/etablissement/section-europeenne", data={"reponse": "oui"})
    page = logged.get("/etablissement/listes/europeenne")
    assert page.status_code == 200
    assert "MARTIN" in page.text and "BERNARD" not in page.text


def test_list_of_one_specialty(logged, cap, inscrits):
    chooser = logged.get("/etablissement/listes/specialite")
    assert chooser.status_code == 200 and "CAP001" in chooser.text
    page = logged.get(f"/etablissement/listes/specialite?specialite={cap.id}")
    assert "BERNARD" in page.text and "MARTIN" not in page.text


def test_grouped_lists_show_each_specialty_and_form(logged, inscrits):
    page = logged.get("/etablissement/listes/specialites")
    assert "BCP BCP001" in page.text and "CAP CAP001" in page.text
    formes = logged.get("/etablissement/listes/formes")
    assert "forme progressive" in formes.text and "forme globale" in formes.text


@pytest.mark.parametrize("kind", ["alphabetique", "specialites", "formes"])
def test_list_as_pdf(logged, inscrits, kind, etab, session_examen):
    response = logged.get(f"/etablissement/listes/{kind}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = pdf_text(response.data)
    for name in ("MARTIN", "BERNARD", "ALBERT", etab.nom, session_examen.libelle, "Page 1 / 1"):
        assert name in text
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "etablissement.telechargement"))
    assert [e.details["format"] for e in events] == ["pdf"]


def test_pdf_can_leave_cancelled_out(logged, inscrits):
    text = pdf_text(logged.get("/etablissement/listes/alphabetique/pdf?annulees=exclure").data)
    assert "MARTIN" in text and "ALBERT" not in text


def test_list_as_csv(logged, inscrits, make_inscription, etab, cap, session_examen):
    make_inscription(session_examen, cap, etab, candidat={"nom_naissance": "=HYPERLINK(1)", "prenom1": "Zoé"})
    response = logged.get("/etablissement/listes/alphabetique/csv")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = parse_csv(response)
    assert rows[0][:4] == ["Numéro-version", "Nom de naissance", "Nom d'usage", "Prénoms"]
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["MARTIN"][2] == "DURAND"
    assert by_name["MARTIN"][8] == "oui"
    assert by_name["ALBERT"][9] == "Annulée"
    assert by_name["BERNARD"][4] == "01/03/2008"
    assert "'=HYPERLINK(1)" in by_name  # formula neutralised
    assert [r[1] for r in rows[1:]] == sorted(r[1] for r in rows[1:])


def test_csv_of_one_specialty_without_cancelled(logged, inscrits, bcp):
    rows = parse_csv(logged.get(f"/etablissement/listes/specialite/csv?specialite={bcp.id}&annulees=exclure"))
    assert [r[1] for r in rows[1:]] == ["MARTIN"]


def test_pupils_not_registered(logged, etab, bcp, session_examen, make_eleve, make_inscription, examens):
    inscrit = make_eleve(etab, session_examen, examens["BCP"], nom="INSCRIT", ine="111111111AA")
    make_eleve(etab, session_examen, examens["BCP"], nom="ABSENT", ine="222222222BB")
    make_eleve(etab, session_examen, examens["BCP"], nom="PARTI", ine="333333333CC", present=False)
    make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": "INSCRIT", "ine": inscrit.ine})
    make_inscription(session_examen, bcp, etab, hors_base=True, candidat={"nom_naissance": "HORSBASE"})
    page = logged.get("/etablissement/eleves-non-inscrits")
    assert page.status_code == 200
    assert "ABSENT" in page.text and "PARTI" not in page.text
    assert "<td>INSCRIT</td>" not in page.text
    assert "HORSBASE" in page.text
    rows = parse_csv(logged.get("/etablissement/eleves-non-inscrits/csv"))
    assert [r[1] for r in rows[1:]] == ["ABSENT"]


def test_pupil_registered_by_pupil_link_is_not_listed(logged, etab, bcp, session_examen, make_eleve,
                                                      make_inscription, examens):
    eleve = make_eleve(etab, session_examen, examens["BCP"], nom="LIE")
    make_inscription(session_examen, bcp, etab, eleve_id=eleve.id, candidat={"nom_naissance": "LIE"})
    rows = parse_csv(logged.get("/etablissement/eleves-non-inscrits/csv"))
    assert rows[1:] == []


def test_pupil_whose_registration_was_cancelled_is_listed_again(logged, etab, bcp, session_examen, make_eleve,
                                                                make_inscription, examens):
    eleve = make_eleve(etab, session_examen, examens["BCP"], nom="REVENU")
    make_inscription(session_examen, bcp, etab, eleve_id=eleve.id, statut="annulee")
    rows = parse_csv(logged.get("/etablissement/eleves-non-inscrits/csv"))
    assert [r[1] for r in rows[1:]] == ["REVENU"]
