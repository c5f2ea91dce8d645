"""The manager's way to the passes, and a dashboard to decide with (issue 15, points 14, 19, 21)."""
from __future__ import annotations

import html
import re

import pytest

from tests.gestionnaire.test_passes import eleve_d  # noqa: F401 - fixture


def _links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'<a [^>]*href="([^"]+)"', page)]


# --- point 14: the passes are reachable ----------------------------------------------------


def test_passes_are_in_the_manager_menu(gestionnaire_client, session_examen):
    page = gestionnaire_client.get("/gestionnaire/").get_data(as_text=True)
    menu = re.search(r'<nav class="fr-nav" id="navigation-principale".*?</nav>', page, re.DOTALL).group(0)
    assert "/gestionnaire/laissez-passer" in _links(menu)
    passes = gestionnaire_client.get("/gestionnaire/laissez-passer").get_data(as_text=True)
    current = re.search(r'<a class="fr-nav__link" href="([^"]+)" aria-current="page">([^<]+)</a>', passes)
    assert current.groups() == ("/gestionnaire/laissez-passer", "Laissez-passer")


def test_an_establishment_page_links_to_its_passes_and_to_each_refused_pupil(
        gestionnaire_client, session_examen, examens, make_eleve, eleve_d):  # noqa: F811
    accepted = make_eleve(eleve_d.etablissement, session_examen, examens["CAP"], nom="FAVORABLE", decision="F")
    page = gestionnaire_client.get("/gestionnaire/etablissements/0130001A").get_data(as_text=True)
    links = _links(page)
    assert "/gestionnaire/laissez-passer?etablissement=0130001A" in links
    pupil_link = f"/gestionnaire/laissez-passer?etablissement=0130001A&eleve={eleve_d.id}"
    assert pupil_link in links
    assert not any(f"eleve={accepted.id}" in link for link in links)
    # The link leads to the page showing that pupil, with the form granting the pass.
    target = gestionnaire_client.get(pupil_link)
    assert target.status_code == 200
    text = target.get_data(as_text=True)
    assert "REFUSE" in text and f'id="motif-{eleve_d.id}"' in text


def test_the_pupil_link_shows_only_that_pupil(gestionnaire_client, session_examen, examens, make_eleve,
                                              eleve_d):  # noqa: F811
    make_eleve(eleve_d.etablissement, session_examen, examens["CAP"], nom="AUTREREFUS", decision="D")
    page = gestionnaire_client.get(f"/gestionnaire/laissez-passer?etablissement=0130001A&eleve={eleve_d.id}")
    text = page.get_data(as_text=True)
    assert "REFUSE" in text and "AUTREREFUS" not in text
    assert 'id="eleve-choisi"' in text
