"""Journey 3: the school head follows the registrations: the five lists, a cancellation and
its reactivation, the confirmations of a specialty downloaded and read back."""
from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from portal.demo import SUIVI_PASSWORD

from .helpers import SCREENSHOTS, expect, expect_heading, field, nav, press, tick

# The first journey of a run also waits for the live server and its demo data.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

LISTES = ("Liste alphabétique des candidats", "Liste alphabétique des candidats en section européenne",
          "Liste des candidats de toutes les spécialités", "Liste des candidats par spécialité et forme de passage")


def select_containing(select, text: str) -> str:
    """Pick the option of ``select`` whose label contains ``text``; returns that label."""
    label = select.locator("option").filter(has_text=text).first.inner_text().strip()
    select.select_option(label=label)
    return label


def table_rows(page) -> list[list[str]]:
    rows = page.locator("main table tbody tr").filter(has=page.locator("td"))
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]


def test_school_head_lists_cancels_reactivates_and_prints_confirmations(new_page, visits, ecole):
    page = new_page("j3-suivi")
    page.goto("/etablissement/connexion")
    field(page, "Code de l'établissement").fill(ecole.code)
    field(page, "Mot de passe du suivi").fill(SUIVI_PASSWORD)
    press(page, "Se connecter")
    expect_heading(page, ecole.nom)
    visits.check(page, "tableau-de-bord")

    # The five lists: four from their links, the fifth for one specialty.
    nav(page, "Listes de candidats")
    visits.check(page, "listes")
    for titre in LISTES:
        press(page, titre, "link")
        expect_heading(page, titre)
        assert table_rows(page), f"{titre} : aucune ligne"
        visits.check(page, titre)
        press(page, "Retour aux listes", "link")
    code = ecole.europeenne.split(" – ")[1]
    select_containing(field(page, "Spécialité"), code)
    press(page, "Afficher la liste")
    expect_heading(page, code)
    press(page, "Masquer les inscriptions annulées", "link")
    visits.check(page, "liste-specialite")
    actifs = [(row[1], row[3]) for row in table_rows(page)]
    assert actifs and all(row[-1].lower() == "active" for row in table_rows(page))

    # Cancel one registration of that specialty, then reactivate it.
    nav(page, "Validation / annulation")
    select_containing(field(page, "Spécialité"), code)
    press(page, "Filtrer")
    visits.check(page, "validation")
    nom, prenoms = actifs[0]
    box = page.get_by_role("checkbox", name=re.compile(rf"^Annulée : \S+ {re.escape(nom)} {re.escape(prenoms)}$"))
    expect(box).not_to_be_checked()
    tick(box, True)
    press(page, "Enregistrer")
    expect(page.locator("#messages")).to_contain_text("1 inscription mise à jour.")
    expect(box).to_be_checked()
    visits.check(page, "validation-annulee")
    tick(box, False)
    press(page, "Enregistrer")
    expect(page.locator("#messages")).to_contain_text("1 inscription mise à jour.")
    expect(box).not_to_be_checked()

    # The confirmations of the specialty: one PDF holding every active pupil.
    nav(page, "Confirmations")
    visits.check(page, "confirmations")
    select_containing(field(page, "Spécialité"), code)
    with page.expect_download(timeout=90_000) as download:  # one PDF page per pupil: a few seconds
        page.get_by_role("button", name="Imprimer les confirmations").click(timeout=90_000)
    text = "\n".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    for nom, prenoms in actifs:
        assert re.search(rf"Nom de naissance {re.escape(nom)}\b", text), nom
        assert prenoms in text, prenoms

    nav(page, "Élèves non inscrits")
    expect_heading(page, "Élèves de la base non encore inscrits")
    visits.check(page, "eleves-non-inscrits")


def test_navigation_is_reachable_on_a_phone_without_javascript(new_page, ecole):
    """Without JavaScript the "Menu" button cannot open the menu: the navigation is repeated,
    visible, under the header."""
    page = new_page("sans-javascript", java_script_enabled=False)
    page.goto("/etablissement/connexion")
    field(page, "Code de l'établissement").fill(ecole.code)
    field(page, "Mot de passe du suivi").fill(SUIVI_PASSWORD)
    press(page, "Se connecter")
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu).to_have_count(1)  # the one inside the closed modal is hidden
    for label in ("Tableau de bord", "Listes de candidats", "Validation / annulation", "Confirmations"):
        expect(menu.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "sans-javascript-360.png"), full_page=True)
    press(page, "Listes de candidats", "link", within=menu)
    expect_heading(page, "Listes des candidats préinscrits")
