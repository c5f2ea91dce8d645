"""French alphabetical order (issue 15, point 1), on SQLite and on PostgreSQL alike.

Every list ordered by name (the lists on screen, in PDF and CSV, the confirmations of a
specialty, the pupils not registered, the validation page, the manager's lists) and every
choice of specialties puts accented and lower-case names where a French reader expects
them, as a directory would for ``D'Alembert`` and ``Le Gall``. Byte order put ``Émery``
after ``Zola`` and ``dupont`` after every capital."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from portal.collation import cle_tri
from portal.extensions import db
from portal.services import gestionnaires, listes, passes, suivi
from tests.conftest import STRONG_PASSWORD, build_app

NOMS = ["Zola", "Müller", "Émery", "Bénard", "dupont", "D'Alembert", "Le Gall", "Leblanc", "Dabo", "Martin",
        "Eluard"]
ORDRE = ["Bénard", "Dabo", "D'Alembert", "dupont", "Eluard", "Émery", "Leblanc", "Le Gall", "Martin", "Müller",
         "Zola"]


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, app_overrides):
    """Each test of this module runs on both databases: the order must not depend on one."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'ordre.sqlite'}"
    app = build_app(url, **app_overrides)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _order(text: str, names) -> list[str]:
    """``names`` in the order they first appear in ``text``."""
    found = {name: text.find(name) for name in names}
    assert all(position >= 0 for position in found.values()), found
    return sorted(found, key=found.get)


def _html(page) -> str:
    return page.get_data(as_text=True).replace("&#39;", "'")


def _pdf(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).replace("’", "'")


@pytest.fixture
def inscrits(etab, bcp, session_examen, make_inscription):
    return [make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": nom, "prenom1": "Alex"})
            for nom in NOMS]


def test_the_sort_key_files_names_as_a_french_directory():
    assert sorted(NOMS, key=cle_tri) == ORDRE
    assert sorted(["Dupont", "dupont", "DUPONT"], key=cle_tri)[0].lower() == "dupont"
    assert cle_tri("Dupont", "Émile") < cle_tri("dupont", "Eric") < cle_tri("Dupont", "Eva")


def test_lists_on_screen_in_csv_and_in_pdf_are_in_french_order(logged, inscrits):
    assert _order(_html(logged.get("/etablissement/listes/alphabetique")), ORDRE) == ORDRE
    rows = list(csv.reader(io.StringIO(logged.get("/etablissement/listes/alphabetique/csv")
                                       .get_data().decode("utf-8-sig")), delimiter=";"))
    assert [row[1] for row in rows[1:]] == ORDRE
    assert _order(_pdf(logged.get("/etablissement/listes/alphabetique/pdf").get_data()), ORDRE) == ORDRE


def test_the_list_of_a_specialty_and_the_validation_page_are_in_french_order(logged, inscrits, bcp):
    page = _html(logged.get(f"/etablissement/listes/specialite?specialite={bcp.id}"))
    assert _order(page, ORDRE) == ORDRE
    assert _order(_html(logged.get("/etablissement/validation")), ORDRE) == ORDRE


def test_the_confirmations_of_a_specialty_come_in_french_order(logged, etab, bcp, session_examen, make_inscription):
    noms = ["Zola", "Émery", "dupont", "D'Alembert"]
    for nom in noms:
        make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": nom, "prenom1": "Alex"})
    response = logged.get(f"/etablissement/confirmations/pdf?specialite={bcp.id}")
    assert response.status_code == 200
    pages = [page.extract_text().replace("’", "'") for page in PdfReader(io.BytesIO(response.get_data())).pages]
    firsts = [next(nom for nom in noms if re.search(re.escape(nom), text, re.IGNORECASE)) for text in pages]
    assert firsts == ["D'Alembert", "dupont", "Émery", "Zola"]


def test_pupils_not_registered_are_in_french_order(logged, etab, session_examen, examens, make_eleve):
    for nom in NOMS:
        make_eleve(etab, session_examen, examens["BCP"], nom=nom)
    expected = [nom.upper() for nom in ORDRE]
    assert _order(_html(logged.get("/etablissement/eleves-non-inscrits")), expected) == expected
    assert [e.nom for e in db.session.scalars(listes.eleves_non_inscrits(etab, session_examen))] == expected


def test_specialties_are_offered_in_french_order_of_their_label(client, make_specialite, make_etablissement,
                                                                login_etablissement, session_examen):
    libelles = ["Zinguerie", "Électricité", "boulangerie", "Cuisine", "Ébénisterie"]
    specialites = [make_specialite("CAP", libelle=libelle) for libelle in libelles]
    etab = make_etablissement("0130009Z", password=STRONG_PASSWORD, specialites=specialites)
    login_etablissement(etab, STRONG_PASSWORD)
    expected = ["boulangerie", "Cuisine", "Ébénisterie", "Électricité", "Zinguerie"]
    assert _order(_html(client.get("/etablissement/listes")), expected) == expected


def test_the_manager_lists_are_in_french_order(app, examens, session_examen, make_etablissement,
                                               make_gestionnaire):
    for nom, commune in [("Lycée Zola", "Évry"), ("lycée agricole", "Zonza"), ("Lycée Émile Zola", "Aix"),
                         ("Lycée d'Arsonval", "Évian")]:
        make_etablissement(nom=nom, commune=commune)
    par_nom = [e.nom for e in db.session.scalars(suivi.etablissements_query(session_examen, tri="nom"))]
    assert par_nom == ["lycée agricole", "Lycée d'Arsonval", "Lycée Émile Zola", "Lycée Zola"]
    par_commune = [e.commune for e in db.session.scalars(suivi.etablissements_query(session_examen, tri="commune"))]
    assert par_commune == ["Aix", "Évian", "Évry", "Zonza"]
    for nom in ["Zoé Martin", "Élise Durand", "adrien Petit"]:
        make_gestionnaire(nom=nom)
    assert [g.nom for g in gestionnaires.list_gestionnaires()] == ["adrien Petit", "Élise Durand", "Zoé Martin"]
    for nom in ["Zola", "Émery", "dupont"]:
        passes.grant_autorisation(session_examen, service="public", examen=examens["CAP"], nom=nom, prenom="Léa",
                                  date_naissance=date(2005, 1, 1), par="test")
    db.session.commit()
    assert [a.nom for a in passes.list_autorisations(session_examen)] == ["dupont", "Émery", "Zola"]


def test_a_renamed_row_moves_to_its_new_place(app, make_etablissement, make_specialite):
    etab = make_etablissement(nom="Lycée Zola")
    make_etablissement(nom="Lycée Martin")
    etab.nom = "Lycée Abel"
    db.session.commit()
    db.session.expire_all()
    assert [e.nom for e in db.session.scalars(suivi.etablissements_query(None, tri="nom"))] == [
        "Lycée Abel", "Lycée Martin"]
    assert etab.cle_tri == cle_tri("Lycée Abel")


def test_a_modified_candidate_name_moves_in_the_lists(etab, bcp, session_examen, make_inscription):
    zola = make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": "Zola", "prenom1": "Léa"})
    make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": "Martin", "prenom1": "Léa"})
    zola.candidat.nom_naissance = "Émery"
    db.session.commit()
    db.session.expire_all()
    rows = db.session.scalars(listes.list_query(etab, session_examen, "alphabetique")).all()
    assert [i.candidat.nom_naissance for i in rows] == ["Émery", "Martin"]
