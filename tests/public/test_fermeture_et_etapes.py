"""Closed while filling, the calendar shown to candidates, and the step counter (issue 15,
points 5 and 15), for the public candidate and the school computer."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.formatting import format_datetime, to_paris
from portal.etapes import ETAPES
from portal.models import Brouillon, Inscription, OuvertureService, StatutPublication, utcnow
from tests.inscription.conftest import text
from tests.public.test_public_flow import SECRET, catalogue, fill  # noqa: F401

CLOSED_AT = (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)  # naive UTC, as stored
CLOSED_SINCE = (f"Les inscriptions au CAP sont closes depuis le "
                f"{to_paris(CLOSED_AT).strftime('%d/%m/%Y à %Hh%M')} (heure de Paris).")


def close_exam(session_examen, service, examen, open_service, *, by_date=False):
    """The manager closes one exam: by hand (the row's last change is then the closing time)
    or by a closing date."""
    if by_date:
        open_service(session_examen, service, examen, debut=CLOSED_AT - timedelta(days=30), fin=CLOSED_AT)
    else:
        row = open_service(session_examen, service, examen, ouvert=False)
        row.updated_at = CLOSED_AT
        db.session.commit()


def count() -> int:
    return db.session.scalar(select(func.count(Inscription.id)))


@pytest.mark.parametrize("by_date", [False, True])
def test_public_exam_closed_while_on_review_says_since_when_and_keeps_the_answers_but_the_secret(
        client, catalogue, session_examen, open_service, by_date):  # noqa: F811
    fill(client, catalogue["CAP"])
    assert client.get("/public/inscription/recapitulatif").status_code == 200
    close_exam(session_examen, "public", catalogue["CAP"].examen, open_service, by_date=by_date)
    response = client.post("/public/inscription/recapitulatif",
                           data={"secret": SECRET, "secret_confirmation": SECRET})
    assert response.headers["Location"].endswith("/public/inscription/specialite")
    page = text(client.get("/public/inscription/specialite"))
    assert CLOSED_SINCE in page and "Vos autres réponses sont conservées" in page
    assert count() == 0
    assert "Lefèvre" in text(client.get("/public/inscription/identite"))
    assert "12 rue des Lilas" in text(client.get("/public/inscription/contact"))
    assert all(SECRET not in repr(donnees) for donnees in db.session.scalars(select(Brouillon.donnees)))


def test_specialty_leaving_the_catalogue_while_on_review_is_named(client, catalogue, session_examen):  # noqa: F811
    fill(client, catalogue["CAP"])
    statut = db.session.scalar(select(StatutPublication).where(
        StatutPublication.specialite_id == catalogue["CAP"].id))
    statut.statut = "non_publie"
    db.session.commit()
    client.post("/public/inscription/recapitulatif", data={"secret": SECRET, "secret_confirmation": SECRET})
    page = text(client.get("/public/inscription/specialite"))
    cap = catalogue["CAP"]
    assert f"La spécialité CAP – {cap.code} – Cuisine n'est plus proposée à l'inscription." in page
    assert count() == 0


def _calendar(page: str) -> str:
    match = re.search(r'<section[^>]*id="calendrier-examens".*?</section>', page, re.DOTALL)
    assert match, "no calendar on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def test_home_and_specialty_step_say_which_exams_are_open_until_when_and_which_are_closed(
        client, catalogue, session_examen, open_service):  # noqa: F811
    close_exam(session_examen, "public", catalogue["CAP"].examen, open_service)
    fin = utcnow().replace(second=0, microsecond=0) + timedelta(days=5)
    open_service(session_examen, "public", catalogue["BP"].examen, fin=fin)
    home = _calendar(text(client.get("/public/")))
    fill(client, catalogue["BP"])
    step = _calendar(text(client.get("/public/inscription/specialite")))
    assert home == step
    assert CLOSED_SINCE in home and "Fermé CAP" in home
    assert f"Ouvert BP (Brevet professionnel) : inscriptions ouvertes jusqu'au {format_datetime(fin)}" in home
    # Only the exams with a specialty offered to this service are listed.
    assert "BTS" not in home


def _counters(pages) -> list[tuple[int, int]]:
    found = []
    for page in pages:
        numbers = set(re.findall(r"Étape (\d) sur (\d)", page))
        assert len(numbers) == 1, numbers
        found.append(tuple(int(n) for n in numbers.pop()))
    return found


@pytest.mark.parametrize("specialite, forme", [("CAP", None), ("BP", "progressive")])
def test_public_step_counter_says_the_same_total_on_every_page(client, catalogue, specialite, forme):  # noqa: F811
    fill(client, catalogue[specialite], forme=forme)
    steps = ["identite", "contact", "specialite"] + (["forme"] if forme else []) + ["recapitulatif"]
    counters = _counters(text(client.get(f"/public/inscription/{step}")) for step in steps)
    assert {total for _, total in counters} == {len(ETAPES)}
    assert [number for number, _ in counters] == sorted({number for number, _ in counters})
    assert counters[-1] == (len(ETAPES), len(ETAPES))


def test_public_home_says_the_number_of_steps_of_the_flow(client, catalogue):  # noqa: F811
    page = text(client.get("/public/"))
    assert f"{len(ETAPES)} étapes : identité, coordonnées, examen et spécialité, forme de passage, récapitulatif" \
        in page


def test_registration_closed_for_every_exam_still_shows_the_calendar(client, catalogue):  # noqa: F811
    ligne = db.session.scalar(select(OuvertureService).where(  # the manager closes the whole service
        OuvertureService.service == "public", OuvertureService.examen_id.is_(None)))
    ligne.ouvert = False
    db.session.commit()
    response = client.get("/public/inscription/identite")
    assert response.status_code == 403
    calendar = _calendar(text(response))
    assert "Fermé CAP" in calendar and "Fermé BP" in calendar and "fermé par le rectorat" in calendar
