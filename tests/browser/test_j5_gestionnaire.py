"""Journey 5: a manager closes the in-school service (a pupil on a school computer is told
why), locks the base (a pupil's submission gets the maintenance page), loads a pupil base
(first with an error named by its line, then a correct file), exports the registrations
and unlocks the base."""
from __future__ import annotations

import csv
import io
import re

import pytest

from portal.demo import ADMIN_EMAIL, ADMIN_PASSWORD, VITRINE_CFA

from .helpers import choose, expect, expect_heading, field, main_text, nav, press, tick
from .test_j2_eleves import fill_identity, open_computer

# The first journey of a run also waits for the live server and its demo data.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

HEADER = "ine;nom;prenoms;date_naissance;examen;specialite;decision;note\n"
BAD_BASE = HEADER + ("123456789AB;Martin;Léa Camille;17/05/2008;BCP;;F;\n"
                     "234567890BC;Bernard;Hugo;31/02/2007;BCP;;S;Sous réserve du stage\n")
GOOD_BASE = BAD_BASE.replace("31/02/2007", "28/02/2007")


def set_global_in_school_service(manager, visits, ouvert: bool, check: bool) -> None:
    nav(manager, "Calendrier")
    if check:
        visits.check(manager, "calendrier")
    # The first of the two services on the page, each with its global line.
    with manager.expect_navigation():
        manager.get_by_role("link", name="Modifier la ligne globale", exact=True).first.click()
    expect_heading(manager, "Inscription en établissement")
    tick(field(manager, "Service ouvert (dans les limites des dates ci-dessous)"), ouvert)
    if check:
        visits.check(manager, "ligne-globale")
    press(manager, "Enregistrer")
    expect(manager.locator("#messages")).to_contain_text("Calendrier enregistré.")


def upload(manager, visits, tmp_path, name: str, content: str, code: str) -> None:
    nav(manager, "Chargements")
    press(manager, "Nouveau chargement", "link")
    field(manager, "Fichier à charger").select_option(label="Base élèves d'un établissement")
    field(manager, "Code UAI de l'établissement").fill(code)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    field(manager, "Fichier CSV").set_input_files(path)
    press(manager, "Déposer et voir l'aperçu")
    expect_heading(manager, "Aperçu")


def test_manager_closes_locks_loads_exports_and_unlocks(new_page, visits, ecole, tmp_path):
    manager = new_page("j5-gestionnaire")
    pupil = new_page("j5-eleve")
    manager.goto("/gestionnaire/connexion")
    visits.check(manager, "connexion")
    field(manager, "Adresse électronique").fill(ADMIN_EMAIL)
    field(manager, "Mot de passe").fill(ADMIN_PASSWORD)
    press(manager, "Se connecter")
    expect_heading(manager, "Tableau de bord")
    visits.check(manager, "tableau-de-bord")

    # The in-school service closes while a pupil is filling the form: the pupil is told why.
    open_computer(pupil, visits, ecole)
    set_global_in_school_service(manager, visits, ouvert=False, check=True)
    fill_identity(pupil, "Roux", "Nathan", "Masculin", "2009-01-09", "120456789AE")
    press(pupil, "Continuer")
    expect_heading(pupil, "L'inscription n'est pas possible en ce moment")
    expect(pupil.locator("#raison-fermeture")).to_contain_text("fermé par le rectorat")
    visits.check(pupil, "service-ferme")
    set_global_in_school_service(manager, visits, ouvert=True, check=False)

    # The pupil goes on up to the summary; the manager locks the base; the submission is refused.
    press(pupil, "Retour à l'ouverture du poste", "link")
    fill_identity(pupil, "Roux", "Nathan", "Masculin", "2009-01-09", "120456789AE")
    press(pupil, "Continuer")
    press(pupil, "Continuer")
    field(pupil, "Examen et spécialité").select_option(label=ecole.europeenne)
    press(pupil, "Continuer")
    choose(pupil, "Forme de passage", "Globale")
    choose(pupil, "Suivez-vous un enseignement en section européenne ?", "Non")
    press(pupil, "Continuer")
    expect(pupil.get_by_role("heading", name="Récapitulatif")).to_be_visible()

    nav(manager, "Campagne")
    visits.check(manager, "campagne")
    field(manager, "Motif").fill("Chargement des bases élèves")
    press(manager, "Verrouiller la base")
    expect(manager.locator("#messages")).to_contain_text("Base verrouillée")
    visits.check(manager, "base-verrouillee")

    press(pupil, "Confirmer la préinscription")
    assert "verrouill" in main_text(pupil).lower()
    visits.check(pupil, "maintenance")

    # A pupil base with an error: the preview names the line; then the corrected file.
    base_code = VITRINE_CFA.code  # not the pupils' school: its pupils need no base entry
    upload(manager, visits, tmp_path, "base-erreur.csv", BAD_BASE, base_code)
    expect(manager.get_by_role("heading", name="Fichier refusé : 1 erreur")).to_be_visible()
    erreurs = manager.locator("main table").filter(has_text="date_naissance")
    expect(erreurs.locator("tbody tr").first).to_have_text(re.compile(r"^\s*3\s+date_naissance\s+Date invalide"))
    visits.check(manager, "apercu-erreur")
    press(manager, "Abandonner et déposer un autre fichier")
    upload(manager, visits, tmp_path, "base.csv", GOOD_BASE, base_code)
    expect(manager.get_by_role("heading", name="Aucune erreur dans les 2 ligne(s) du fichier")).to_be_visible()
    visits.check(manager, "apercu-correct")
    press(manager, "Appliquer le chargement")
    expect(manager.locator("#messages")).to_contain_text("Chargement réussi : 2 créé(s)")
    visits.check(manager, "echange")

    # Export every registration of the session.
    nav(manager, "Déchargements")
    visits.check(manager, "dechargements")
    with manager.expect_download() as download:
        manager.get_by_role("button", name="Télécharger le déchargement complet (CSV)").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig")), delimiter=";"))
    assert len(rows) > 2000
    assert any("Fontaine" in row for row in rows[1:])

    # Unlock: the pupil's submission now goes through.
    nav(manager, "Campagne")
    press(manager, "Déverrouiller la base")
    expect(manager.locator("#messages")).to_contain_text("Base déverrouillée.")
    visits.check(manager, "base-deverrouillee")
    pupil.go_back()
    press(pupil, "Confirmer la préinscription")
    expect_heading(pupil, "Préinscription enregistrée")
