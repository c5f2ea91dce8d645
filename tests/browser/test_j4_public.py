"""Journey 4: an individual candidate registers on /public, comes back to modify the
registration (N-0 becomes N-1), prints it again and checks the verification codes."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from .helpers import choose, expect, expect_heading, field, logout, main_text, press
from .keyboard import Keyboard

# The first journey of a run also waits for the live server and its demo data.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

SECRET = "Tilleuls et marronniers 42"
CODE_RE = re.compile(r"Code de vérification : ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})")


def pdf_text(page, link_name: str) -> str:
    """The confirmation behind the page's link, as the browser receives it (same URL, same
    cookies). Headless Chromium hands PDF navigations to its viewer, which hides the document
    from the test and leaves nothing reliable to come back from, hence the direct request."""
    href = page.get_by_role("link", name=link_name).get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)


def verify(page, visits, code: str, label: str) -> str:
    page.goto("/public/")
    press(page, "Vérifier une confirmation", "link")
    field(page, "Code de vérification").fill(code)
    press(page, "Vérifier")
    visits.check(page, f"verification-{label}")
    return page.locator("#resultat-verification").inner_text()


def test_individual_candidate_registers_modifies_prints_and_verifies(new_page, visits):
    page = new_page("j4-public")
    page.goto("/public/")
    visits.check(page, "accueil")
    press(page, "S'inscrire", "link")
    visits.check(page, "identite")
    field(page, "Nom de naissance").fill("Garnier")
    field(page, "Premier prénom").fill("Mathis")
    choose(page, "Sexe", "Masculin")
    field(page, "Date de naissance").fill("1995-06-02")
    field(page, "Commune de naissance").fill("Saint-Étienne")
    choose(page, "Statut", "Candidat individuel")
    press(page, "Continuer")
    visits.check(page, "coordonnees")
    field(page, "Adresse électronique").fill("mathis.garnier@example.org")
    field(page, "Adresse").fill("12 rue des Tilleuls")
    field(page, "Code postal").fill("42000")
    field(page, "Commune").fill("Saint-Étienne")
    press(page, "Continuer")
    visits.check(page, "specialite")
    specialites = field(page, "Examen et spécialité")
    bts = [o for o in specialites.locator("option").all_inner_texts() if o.startswith("BTS – ")]
    specialites.select_option(label=bts[0])
    press(page, "Continuer")
    expect(page.get_by_role("heading", name="Récapitulatif")).to_be_visible()
    visits.check(page, "recapitulatif")
    field(page, "Code secret").fill(SECRET)
    field(page, "Confirmation du code secret").fill(SECRET)
    press(page, "Confirmer la préinscription")

    expect_heading(page, "Mon inscription")
    numero = page.locator("#numero-inscription").inner_text()
    assert numero.endswith("-0")
    visits.check(page, "mon-inscription")
    first = pdf_text(page, "Télécharger la confirmation (PDF)")
    assert "Garnier" in first and numero in first
    old_code = CODE_RE.search(first).group(1)
    logout(page)
    expect(page.locator("#messages")).to_contain_text("Vous êtes déconnecté.")
    visits.check(page, "deconnecte")

    # Coming back with the number, the birth date and the secret.
    press(page, "Retrouver mon inscription", "link")
    visits.check(page, "retrouver")
    field(page, "Numéro d'inscription").fill(numero)
    field(page, "Date de naissance").fill("1995-06-02")
    field(page, "Code secret").fill(SECRET)
    press(page, "Accéder à mon inscription")
    press(page, "Modifier mon inscription")
    expect(field(page, "Nom de naissance")).to_have_value("Garnier")
    visits.check(page, "modification-identite")
    press(page, "Continuer")
    visits.check(page, "modification-coordonnees")
    field(page, "Adresse").fill("3 place du Peuple")
    press(page, "Continuer")
    press(page, "Continuer")
    expect(page.get_by_role("heading", name="Récapitulatif")).to_be_visible()
    assert "3 place du Peuple" in main_text(page)
    visits.check(page, "modification-recapitulatif")
    press(page, "Enregistrer la modification")

    nouveau = numero[:-2] + "-1"
    expect(page.locator("#numero-inscription")).to_have_text(nouveau)
    expect(page.locator("#messages")).to_contain_text(nouveau)
    visits.check(page, "apres-modification")
    second = pdf_text(page, "Télécharger la confirmation (PDF)")
    assert nouveau in second and "3 place du Peuple" in second
    new_code = CODE_RE.search(second).group(1)
    assert new_code != old_code

    assert f"Confirmation valide : inscription {nouveau}" in verify(page, visits, new_code, "valide")
    replaced = verify(page, visits, old_code, "remplacee")
    assert "Confirmation remplacée" in replaced and f"remplacée par la version {nouveau}" in replaced


def keyboard_forme_if_asked(keys) -> None:
    """The form step only comes for a specialty offering both forms."""
    if keys.page.get_by_role("group", name="Forme de passage", exact=True).count():
        keys.choose("Forme de passage", "Globale")
        keys.activate("Continuer")


def test_individual_candidate_journey_with_the_keyboard_alone(new_page, visits):
    page = new_page("j4-public-clavier")
    keys = Keyboard(page)
    naissance = date(1990, 10, 8)
    page.goto("/public/")
    keys.activate("S'inscrire", "link")
    keys.type_in("Nom de naissance", "Aubert")
    keys.type_in("Premier prénom", "Sophie")
    keys.choose("Sexe", "Féminin")
    keys.type_date("Date de naissance", naissance)
    keys.type_in("Commune de naissance", "Grenoble")
    keys.choose("Statut", "Formation continue")
    keys.activate("Continuer")
    keys.type_in("Adresse électronique", "sophie.aubert@example.org")
    keys.type_in("Adresse", "8 quai Claude Bernard")
    keys.type_in("Code postal", "69007")
    keys.type_in("Commune", "Lyon")
    keys.activate("Continuer")
    specialites = field(page, "Examen et spécialité").locator("option").all_inner_texts()
    keys.select("Examen et spécialité", next(o for o in specialites if o.startswith("CAP – ")))
    keys.activate("Continuer")
    keyboard_forme_if_asked(keys)
    keys.type_in("Code secret", SECRET)
    keys.type_in("Confirmation du code secret", SECRET)
    keys.activate("Confirmer la préinscription")
    numero = page.locator("#numero-inscription").inner_text()
    assert numero.endswith("-0")
    keys.logout()

    keys.activate("Retrouver mon inscription", "link")
    keys.type_in("Numéro d'inscription", numero)
    keys.type_date("Date de naissance", naissance)
    keys.type_in("Code secret", SECRET)
    keys.activate("Accéder à mon inscription")
    keys.activate("Modifier mon inscription")
    keys.activate("Continuer")
    keys.type_in("Adresse", "10 quai Claude Bernard")
    keys.activate("Continuer")
    keys.activate("Continuer")
    keyboard_forme_if_asked(keys)
    keys.activate("Enregistrer la modification")
    nouveau = numero[:-2] + "-1"
    expect(page.locator("#numero-inscription")).to_have_text(nouveau)

    keys.reach(page.get_by_role("link", name="Télécharger la confirmation (PDF)"))
    code = CODE_RE.search(pdf_text(page, "Télécharger la confirmation (PDF)")).group(1)
    keys.logout()
    keys.activate("Vérifier une confirmation", "link")
    keys.type_in("Code de vérification", code)
    keys.activate("Vérifier")
    expect(page.locator("#resultat-verification")).to_contain_text(f"Confirmation valide : inscription {nouveau}")
    visits.check(page, "verification-clavier")
