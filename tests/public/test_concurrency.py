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
