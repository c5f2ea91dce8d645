"""Journey 2: three pupils registering, one after the other, on a school computer."""
from __future__ import annotations

import re
from datetime import date

import pytest

from portal.demo import POSTE_PASSWORD

from .helpers import choose, expect, expect_heading, field, main_text, press
from .keyboard import Keyboard

# The first journey of a run also waits for the live server and its demo data.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def open_computer(page, visits, ecole) -> None:
    page.goto("/inscription/")
    visits.check(page, "ouvrir-poste")
    field(page, "Code de l'établissement").fill(ecole.code)
    field(page, "Mot de passe du service d'inscription").fill(POSTE_PASSWORD)
    press(page, "Ouvrir le poste")
    expect_heading(page, "Préinscription de l'élève")


def fill_identity(page, nom, prenom, sexe, naissance_iso, ine) -> None:
    field(page, "Nom de naissance").fill(nom)
    field(page, "Premier prénom").fill(prenom)
    choose(page, "Sexe", sexe)
    field(page, "Date de naissance").fill(naissance_iso)
    field(page, "Commune de naissance").fill("Lyon")
    field(page, "Numéro INE (identifiant national élève)").fill(ine)
    choose(page, "Statut", "Élève scolarisé")


def finish(page, visits, label: str, *, check: bool) -> str:
    """From the summary to the confirmation: returns the registration number."""
    expect(page.get_by_role("heading", name="Récapitulatif")).to_be_visible()
    if check:
        visits.check(page, f"recapitulatif-{label}")
    press(page, "Confirmer la préinscription")
    expect_heading(page, "Préinscription enregistrée")
    numero = page.locator("#numero-inscription").inner_text()
    assert numero.endswith("-0")
    if check:
        visits.check(page, f"confirmation-{label}")
    press(page, "Nouvelle inscription")
    expect(page.get_by_role("heading", name="Identité")).to_be_visible()
    return numero


def test_three_pupils_register_on_a_school_computer(new_page, visits, ecole):
    page = new_page("j2-eleves")
    open_computer(page, visits, ecole)

    # 1. A pupil in the European section.
    visits.check(page, "identite")
    fill_identity(page, "Lambert", "Chloé", "Féminin", "2009-03-14", "120456789AB")
    press(page, "Continuer")
    visits.check(page, "coordonnees")
    field(page, "Adresse électronique").fill("chloe.lambert@example.org")
    press(page, "Continuer")
    visits.check(page, "specialite")
    field(page, "Examen et spécialité").select_option(label=ecole.europeenne)
    press(page, "Continuer")
    visits.check(page, "forme")
    choose(page, "Forme de passage", "Globale")
    choose(page, "Suivez-vous un enseignement en section européenne ?", "Oui")
    press(page, "Continuer")
    summary = main_text(page)
    assert "Chloé" in summary and ecole.europeenne in summary
    finish(page, visits, "europeenne", check=True)

    # 2. A pupil in the progressive form.
    fill_identity(page, "Moreau", "Yanis", "Masculin", "2008-11-02", "120456789AC")
    press(page, "Continuer")
    press(page, "Continuer")
    field(page, "Examen et spécialité").select_option(label=ecole.progressive)
    press(page, "Continuer")
    choose(page, "Forme de passage", "Progressive")
    choose(page, "Suivez-vous un enseignement en section européenne ?", "Non")
    press(page, "Continuer")
    assert "Progressive" in main_text(page)
    finish(page, visits, "progressive", check=False)

    # 3. A pupil who forgets the birth name and mistypes the INE, corrected through the summary.
    fill_identity(page, "", "Inès", "Féminin", "2009-07-21", "12345")
    press(page, "Continuer")
    summary = page.get_by_role("alert").filter(has_text="Le formulaire contient")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # the summary takes the focus (resume-erreurs.js)
    expect(page).to_have_title(re.compile("^Erreur : "))
    visits.check(page, "identite-erreurs")
    summary.get_by_role("link", name="Nom de naissance").click()
    expect(field(page, "Nom de naissance")).to_be_focused()
    page.keyboard.type("Benali")
    summary.get_by_role("link", name="Numéro INE").click()
    expect(field(page, "Numéro INE (identifiant national élève)")).to_be_focused()
    field(page, "Numéro INE (identifiant national élève)").fill("120456789AD")
    press(page, "Continuer")
    press(page, "Continuer")
    field(page, "Examen et spécialité").select_option(label=ecole.europeenne)
    press(page, "Continuer")
    choose(page, "Forme de passage", "Globale")
    choose(page, "Suivez-vous un enseignement en section européenne ?", "Non")
    press(page, "Continuer")
    assert "Benali" in main_text(page)
    finish(page, visits, "apres-correction", check=False)


def keyboard_identity(keys, nom, prenom, sexe, naissance, ine) -> None:
    keys.type_in("Nom de naissance", nom)
    keys.type_in("Premier prénom", prenom)
    keys.choose("Sexe", sexe)
    keys.type_date("Date de naissance", naissance)
    keys.type_in("Commune de naissance", "Villeurbanne")
    keys.type_in("Numéro INE (identifiant national élève)", ine)
    keys.choose("Statut", "Élève scolarisé")
    keys.activate("Continuer")


def keyboard_choices(keys, specialite, forme, europe) -> str:
    keys.activate("Continuer")  # contact details are optional in school
    keys.select("Examen et spécialité", specialite)
    keys.activate("Continuer")
    keys.choose("Forme de passage", forme)
    keys.choose("Suivez-vous un enseignement en section européenne ?", europe)
    keys.activate("Continuer")
    keys.activate("Confirmer la préinscription")
    expect_heading(keys.page, "Préinscription enregistrée")
    numero = keys.page.locator("#numero-inscription").inner_text()
    keys.activate("Nouvelle inscription")
    return numero


def test_three_pupils_register_with_the_keyboard_alone(new_page, visits, ecole):
    page = new_page("j2-eleves-clavier")
    keys = Keyboard(page)
    page.goto("/inscription/")
    keys.type_in("Code de l'établissement", ecole.code)
    keys.type_in("Mot de passe du service d'inscription", POSTE_PASSWORD)
    keys.activate("Ouvrir le poste")

    keyboard_identity(keys, "Perrin", "Léna", "Féminin", date(2009, 5, 4), "130456789AB")
    assert keyboard_choices(keys, ecole.europeenne, "Globale", "Oui").endswith("-0")
    keyboard_identity(keys, "Faure", "Adam", "Masculin", date(2008, 12, 30), "130456789AC")
    assert keyboard_choices(keys, ecole.progressive, "Progressive", "Non").endswith("-0")

    # A mistake in the INE: from the error summary to the field, with Enter.
    keyboard_identity(keys, "Da Silva", "Maëlle", "Féminin", date(2009, 9, 17), "13045")
    expect(page).to_have_title(re.compile("^Erreur : "))
    summary = page.get_by_role("alert").filter(has_text="Le formulaire contient")
    keys.activate("Numéro INE (identifiant national élève) : " + page.locator("#ine-desc-error").inner_text(),
                  "link", within=summary, navigates=False)
    ine = field(page, "Numéro INE (identifiant national élève)")
    expect(ine).to_be_focused()
    keys.key("Control+a")
    page.keyboard.type("130456789AD")
    keys.activate("Continuer")
    assert keyboard_choices(keys, ecole.europeenne, "Globale", "Non").endswith("-0")
    visits.check(page, "identite-apres-clavier")
