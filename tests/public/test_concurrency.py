"""Simultaneous submissions on PostgreSQL: gapless distinct numbers, one registration per person."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Inscription, OuvertureService, SessionExamen, Specialite, StatutPublication, utcnow
from portal.services import ServiceError, candidatures
from portal.services.referentiel import ensure_examens

pytestmark = pytest.mark.postgres
SECRET = "une phrase secrète assez longue"


def _catalogue(pg_app) -> tuple[int, int]:
    examens = ensure_examens()
    session_examen = SessionExamen(annee=2027, libelle="Session 2027", academie="Test", date_examen=date(2027, 6, 15),
                                   courante=True)
    specialite = Specialite(examen=examens["CAP"], code="CAP100", libelle="Cuisine")
    db.session.add_all([session_examen, specialite])
    db.session.flush()
    db.session.add_all([
        StatutPublication(session_id=session_examen.id, specialite_id=specialite.id, statut="publie"),
        OuvertureService(session_id=session_examen.id, service="public", ouvert=True,
                         debut=utcnow() - timedelta(days=1), fin=utcnow() + timedelta(days=1)),
    ])
    db.session.commit()
    return session_examen.id, specialite.id


def _candidat(nom: str) -> dict:
    return {"nom_naissance": nom, "nom_usage": "", "prenom1": "Léa", "prenom2": "", "prenom3": "", "sexe": "F",
            "date_naissance": date(1990, 2, 3), "commune_naissance": "Lyon", "pays_naissance": "France",
            "nationalite": "Française", "ine": "", "statut": "individuel", "email": "a@example.org",
            "telephone": "", "adresse1": "1 rue A", "adresse2": "", "code_postal": "69001", "commune": "Lyon",
            "pays": "France"}


def _submit_together(pg_app, noms: list[str]) -> tuple[list[int], list[str], list[BaseException]]:
    session_id, specialite_id = _catalogue(pg_app)
    barrier = threading.Barrier(len(noms))
    numeros, refus, crashes = [], [], []
    lock = threading.Lock()

    def submit(nom: str) -> None:
        try:
            barrier.wait(timeout=30)  # before taking a pooled connection: all start together
            with pg_app.app_context():
                ctx = candidatures.Contexte(db.session.get(SessionExamen, session_id), "public")
                try:
                    inscription = candidatures.create_inscription(
                        ctx, _candidat(nom), candidatures.Choix(specialite_id), secret=SECRET, auteur="test")
                    db.session.commit()
                    with lock:
                        numeros.append(inscription.numero)
                except ServiceError as exc:
                    db.session.rollback()
                    with lock:
                        refus.append(exc.message)
                finally:
                    db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                crashes.append(exc)

    threads = [threading.Thread(target=submit, args=(nom,)) for nom in noms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return numeros, refus, crashes


def test_fifty_simultaneous_candidates_get_fifty_distinct_gapless_numbers(pg_app):
    numeros, refus, crashes = _submit_together(pg_app, [f"Candidat {chr(65 + i // 26)}{chr(65 + i % 26)}"
                                                         for i in range(50)])
    assert crashes == [] and refus == []
    assert sorted(numeros) == list(range(1, 51))
    assert db.session.scalar(select(func.count(Inscription.id))) == 50


def test_twenty_simultaneous_submissions_of_one_candidate_give_one_registration(pg_app):
    numeros, refus, crashes = _submit_together(pg_app, ["Dupont"] * 20)
    assert crashes == []
    assert numeros == [1]
    assert len(refus) == 19 and all("Une inscription active existe déjà" in message for message in refus)
    assert db.session.scalar(select(func.count(Inscription.id))) == 1
    assert db.session.scalar(select(SessionExamen.dernier_numero)) == 1


def test_the_same_review_form_posted_twice_at_once_answers_both_with_the_one_registration(pg_app):
    """A double click whose two requests run together (issue 15): one registration; both
    answers lead to it, logged in, instead of "Une inscription active existe déjà"."""
    from tests.public.test_public_flow import PUBLIC_CONTACT, PUBLIC_IDENTITE

    _, specialite_id = _catalogue(pg_app)
    first = pg_app.test_client()
    for step, data in (("identite", PUBLIC_IDENTITE), ("contact", PUBLIC_CONTACT),
                       ("specialite", {"specialite": str(specialite_id)})):
        assert first.post(f"/public/inscription/{step}", data=data).status_code == 302
    second = pg_app.test_client()
    second.set_cookie("session", first.get_cookie("session").value)
    barrier = threading.Barrier(2)
    answers, crashes = {}, []

    def click(name, http) -> None:
        try:
            barrier.wait(timeout=30)
            answers[name] = http.post("/public/inscription/recapitulatif",
                                      data={"secret": SECRET, "secret_confirmation": SECRET})
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            crashes.append(exc)

    threads = [threading.Thread(target=click, args=item) for item in (("a", first), ("b", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert crashes == []
    db.session.expire_all()
    (inscription_id,) = db.session.scalars(select(Inscription.id)).all()
    mine = f"/public/inscriptions/{inscription_id}"
    for http in (first, second):
        assert answers["a" if http is first else "b"].headers["Location"].endswith(mine)
        page = http.get(mine)
        assert page.status_code == 200 and 'id="numero-inscription">1-0<' in page.get_data(as_text=True)
