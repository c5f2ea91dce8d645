"""Journey 1: a school head's first visit, on default passwords: the tracking password is
changed first (forced), then the European question is answered; the registration service
cannot open while its own password is the default one, so that password is changed next
(confirmed with the new tracking password), and only then is the service opened."""
from __future__ import annotations

import pytest

from portal.demo import VITRINE_DEFAUT
from portal.services.etablissements import INSCRIPTION_PASSWORD_DEFAULT_ERROR

from .helpers import choose, expect, expect_heading, field, main_text, nav, press
from .keyboard import Keyboard

# The first journey of a run also waits for the live server and its demo data.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

NEW_SUIVI = "Sembat suivi des inscriptions 2027"
NEW_POSTE = "Sembat poste des eleves 2027"
OUVERT = "Le service d'inscription de l'établissement est ouvert."


def test_school_head_first_visit_sets_passwords_answers_and_opens_the_service(new_page, visits):
    page = new_page("j1-chef")
    page.goto("/etablissement/connexion")
    visits.check(page, "connexion")
    field(page, "Code de l'établissement").fill(VITRINE_DEFAUT.code)
    field(page, "Mot de passe du suivi").fill(VITRINE_DEFAUT.code)
    press(page, "Se connecter")

    expect_heading(page, "Changer le mot de passe du suivi")
    visits.check(page, "mot-de-passe-impose")
    field(page, "Mot de passe actuel").fill(VITRINE_DEFAUT.code)
    field(page, "Nouveau mot de passe").fill(NEW_SUIVI)
    field(page, "Confirmation du nouveau mot de passe").fill(NEW_SUIVI)
    press(page, "Changer le mot de passe")

    expect(page.locator("#messages")).to_contain_text("Le mot de passe du suivi a été modifié.")
    expect_heading(page, VITRINE_DEFAUT.nom)
    visits.check(page, "tableau-de-bord")
    press(page, "indiquez si vous gérez des sections européennes", "link")

    expect_heading(page, "Sections européennes")
    visits.check(page, "section-europeenne")
    choose(page, "Gérez-vous des sections européennes ?", "Oui")
    press(page, "Enregistrer la réponse")
    expect(page.locator("#messages")).to_contain_text("réponse sur les sections européennes est enregistrée")

    # The dashboard advises changing the registration password first; opening anyway is refused.
    expect(page.locator("#etat-service")).to_contain_text("changez le mot de passe du service d’inscription")
    press(page, "Ouvrir le service d’inscription")
    expect(page.locator("#messages")).to_contain_text(INSCRIPTION_PASSWORD_DEFAULT_ERROR)
    expect(page.locator("#etat-service")).to_contain_text("Fermé")
    visits.check(page, "ouverture-refusee")

    nav(page, "Mot de passe inscription")
    expect_heading(page, "Changer le mot de passe du service d’inscription")
    visits.check(page, "mot-de-passe-inscription")
    field(page, "Mot de passe actuel du service de suivi").fill(NEW_SUIVI)
    field(page, "Nouveau mot de passe").fill(NEW_POSTE)
    field(page, "Confirmation du nouveau mot de passe").fill(NEW_POSTE)
    press(page, "Changer le mot de passe")
    expect(page.locator("#messages")).to_contain_text("Le mot de passe du service d'inscription a été modifié")
    assert "Mot de passe du service d’inscription par défaut" not in main_text(page)
    assert "changez le mot de passe du service d’inscription" not in main_text(page)
    visits.check(page, "tableau-de-bord-mot-de-passe-modifie")

    press(page, "Ouvrir le service d’inscription")
    expect(page.locator("#messages")).to_contain_text(OUVERT)
    expect(page.locator("#etat-service")).to_contain_text("Ouvert")
    visits.check(page, "service-ouvert")


def test_school_head_first_visit_with_the_keyboard_alone(new_page, visits, etablissement_par_defaut):
    etab = etablissement_par_defaut
    page = new_page("j1-chef-clavier")
    keys = Keyboard(page)
    page.goto("/etablissement/connexion")
    keys.type_in("Code de l'établissement", etab.code)
    keys.type_in("Mot de passe du suivi", etab.code)
    keys.activate("Se connecter")

    expect_heading(page, "Changer le mot de passe du suivi")
    keys.type_in("Mot de passe actuel", etab.code)
    keys.type_in("Nouveau mot de passe", NEW_SUIVI)
    keys.type_in("Confirmation du nouveau mot de passe", NEW_SUIVI)
    keys.activate("Changer le mot de passe")

    expect_heading(page, etab.nom)
    keys.activate("indiquez si vous gérez des sections européennes", "link")
    keys.choose("Gérez-vous des sections européennes ?", "Non")
    keys.activate("Enregistrer la réponse")
    expect(page.locator("#messages")).to_contain_text("réponse sur les sections européennes est enregistrée")
    keys.activate("Ouvrir le service d’inscription")
    expect(page.locator("#messages")).to_contain_text(INSCRIPTION_PASSWORD_DEFAULT_ERROR)
    expect(page.locator("#etat-service")).to_contain_text("Fermé")

    keys.activate("Changez-le", "link")
    expect_heading(page, "Changer le mot de passe du service d’inscription")
    keys.type_in("Mot de passe actuel du service de suivi", NEW_SUIVI)
    keys.type_in("Nouveau mot de passe", NEW_POSTE)
    keys.type_in("Confirmation du nouveau mot de passe", NEW_POSTE)
    keys.activate("Changer le mot de passe")
    expect(page.locator("#messages")).to_contain_text("Le mot de passe du service d'inscription a été modifié")

    keys.activate("Ouvrir le service d’inscription")
    expect(page.locator("#messages")).to_contain_text(OUVERT)
    expect(page.locator("#etat-service")).to_contain_text("Ouvert")
    visits.check(page, "tableau-de-bord-clavier")
