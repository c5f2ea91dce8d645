"""Small things seen (issue 15, point 20): an address with an empty second line has no
" , "; a session label holding its year is not followed by it again; "Section européenne"
is printed only for a candidate who was asked the question (confirmation, lists on screen,
as PDF and CSV)."""
from __future__ import annotations

import re

import pytest

from portal.formatting import format_adresse, format_session
from portal.models import Candidat, SessionExamen
from portal.services import confirmations
from tests.etablissement.test_confirmations import pdf_pages
from tests.etablissement.test_listes import parse_csv, pdf_text

ADRESSE = {"adresse1": "12 rue des Écoles", "adresse2": "", "code_postal": "13210", "commune": "Saint-Rémy",
           "pays": "France"}


@pytest.mark.parametrize("parts, expected", [
    (ADRESSE, "12 rue des Écoles, 13210 Saint-Rémy, France"),
    ({**ADRESSE, "adresse2": "Bâtiment C"}, "12 rue des Écoles, Bâtiment C, 13210 Saint-Rémy, France"),
    ({**ADRESSE, "code_postal": ""}, "12 rue des Écoles, Saint-Rémy, France"),
])
def test_an_address_leaves_empty_parts_out(parts, expected):
    assert format_adresse(Candidat(**parts)) == expected


@pytest.mark.parametrize("libelle, expected", [
    ("Session 2027", "Session 2027"), ("Session de juin", "Session de juin (2027)")])
def test_a_session_label_says_its_year_once(libelle, expected):
    assert format_session(SessionExamen(annee=2027, libelle=libelle)) == expected


@pytest.fixture
def trois(etab, bcp, cap, session_examen, make_inscription):
    """A CAP pupil never asked the European question, two BCP pupils who answered it."""
    return {
        "CAPPUPIL": make_inscription(session_examen, cap, etab, section_europeenne=None,
                                     candidat={"nom_naissance": "CAPPUPIL", **ADRESSE}),
        "EUROPEEN": make_inscription(session_examen, bcp, etab, section_europeenne=True,
                                     candidat={"nom_naissance": "EUROPEEN"}),
        "NONEURO": make_inscription(session_examen, bcp, etab, section_europeenne=False,
                                    candidat={"nom_naissance": "NONEURO"}),
    }


def test_confirmation_prints_the_address_the_session_and_the_european_answer_only_when_asked(app, trois):
    with app.test_request_context():
        cap = " ".join(pdf_pages(confirmations.confirmation_pdf(trois["CAPPUPIL"]))[0].split())
        non = " ".join(pdf_pages(confirmations.confirmation_pdf(trois["NONEURO"]))[0].split())
    assert "12 rue des Écoles, 13210 Saint-Rémy, France" in cap and " , " not in cap
    assert "Session 2027 · " in cap and "(2027)" not in cap
    assert "Section européenne" not in cap
    assert "Section européenne Non" in non


def _row(page: str, name: str) -> str:
    match = re.search(rf"<tr>(?:(?!</tr>).)*{name}(?:(?!</tr>).)*</tr>", page, re.DOTALL)
    assert match, name
    return match.group(0)


def test_lists_leave_the_european_answer_empty_for_a_candidate_never_asked(logged, trois):
    page = logged.get("/etablissement/listes/alphabetique").get_data(as_text=True)
    assert "Non renseigné" not in _row(page, "CAPPUPIL") and ">Non<" not in _row(page, "CAPPUPIL")
    assert ">Non<" in _row(page, "NONEURO") and ">Oui<" in _row(page, "EUROPEEN")
    rows = {row[1]: row for row in parse_csv(logged.get("/etablissement/listes/alphabetique/csv"))[1:]}
    assert (rows["CAPPUPIL"][8], rows["NONEURO"][8], rows["EUROPEEN"][8]) == ("", "non", "oui")
    listing = pdf_text(logged.get("/etablissement/listes/alphabetique/pdf").data)
    line = next(line for line in listing.splitlines() if "CAPPUPIL" in line)
    assert "Non" not in line.replace("Non renseigné", "")
