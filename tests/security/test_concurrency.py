"""Concurrency and faults on PostgreSQL (SECURITY item 28, issue 6).

- 1,000 registrations from 20 threads get the numbers 1..1000, each once;
- a pupil-base load run while candidates submit: every write is refused while the base
  is locked, and retried after the unlock none is lost;
- a process killed (``kill -9``) in the middle of a load leaves nothing of it, its
  exchange shows as failed and its lock expires.
"""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Echange,
    Eleve,
    Etablissement,
    Inscription,
    OuvertureService,
    SessionExamen,
    Specialite,
    StatutPublication,
    utcnow,
)
from portal.services import DatabaseLocked, candidatures, chargements, echanges, verrou
from portal.services.passwords import hash_password
from portal.services.referentiel import ensure_examens

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
SECRET = "une phrase secrète assez longue"


@pytest.fixture
def app_overrides(tmp_path):
    # One pooled connection per thread: the test measures the numbering, not the pool.
    return {"CHARGEMENTS_DIR": str(tmp_path / "chargements"),
            "ECHANGE_HEARTBEAT_TIMEOUT": timedelta(seconds=2),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 25, "max_overflow": 5,
                                          "pool_timeout": 300}}


def _world() -> dict:
    examens = ensure_examens()
    session_examen = SessionExamen(annee=2027, libelle="Session 2027", academie="Test",
                                   date_examen=date(2027, 6, 15), courante=True)
    specialite = Specialite(examen=examens["CAP"], code="CUIS", libelle="Cuisine")
    db.session.add_all([session_examen, specialite])
    db.session.flush()
    etab = Etablissement(code="0691234A", nom="Lycée du test", type="LP", commune="Lyon",
                         suivi_password_hash=hash_password("0691234A"),
                         inscription_password_hash=hash_password("0691234A"), specialites=[specialite])
    db.session.add_all([
        etab,
        StatutPublication(session_id=session_examen.id, specialite_id=specialite.id, statut="publie"),
        OuvertureService(session_id=session_examen.id, service="public", ouvert=True,
                         debut=utcnow() - timedelta(days=1), fin=utcnow() + timedelta(days=1)),
    ])
    db.session.commit()
    return {"session_id": session_examen.id, "specialite_id": specialite.id, "etab_id": etab.id}


def _letters(n: int) -> str:
    word = ""
    for _ in range(4):
        word, n = chr(65 + n % 26) + word, n // 26
    return word


def _candidat(i: int) -> dict:
    return {"nom_naissance": f"Nom {_letters(i)}", "nom_usage": "", "prenom1": "Léa", "prenom2": "", "prenom3": "",
            "sexe": "F", "date_naissance": date(1990, 2, 3), "commune_naissance": "Lyon",
            "pays_naissance": "France", "nationalite": "Française", "ine": "", "statut": "individuel",
            "email": "a@example.org", "telephone": "", "adresse1": "1 rue A", "adresse2": "",
            "code_postal": "69001", "commune": "Lyon", "pays": "France"}


def _register(world: dict, i: int) -> int:
    """One public registration through the shared service, committed; its number."""
    ctx = candidatures.Contexte(db.session.get(SessionExamen, world["session_id"]), "public")
    try:
        inscription = candidatures.create_inscription(ctx, _candidat(i), candidatures.Choix(world["specialite_id"]),
                                                      secret=SECRET, auteur="test")
        db.session.commit()
        return inscription.numero
    except BaseException:
        db.session.rollback()
        raise


def _threads(target, count: int) -> list[BaseException]:
    crashes: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            target(n)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            crashes.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return crashes


def test_a_thousand_registrations_from_twenty_threads_get_gapless_distinct_numbers(pg_app):
    world = _world()
    numeros: list[int] = []
    barrier = threading.Barrier(20)

    def worker(n: int) -> None:
        barrier.wait(timeout=30)
        with pg_app.app_context():
            try:
                for i in range(n * 50, n * 50 + 50):
                    numeros.append(_register(world, i))
            finally:
                db.session.remove()

    assert _threads(worker, 20) == []
    assert sorted(numeros) == list(range(1, 1001))
    assert db.session.scalar(select(func.count(Inscription.id))) == 1000
    assert db.session.scalar(select(func.count(func.distinct(Inscription.numero)))) == 1000
    assert db.session.scalar(select(SessionExamen.dernier_numero)) == 1000


def _pupils_csv(count: int, specialite: str = "CUIS") -> bytes:
    lines = ["ine;nom;prenoms;date_naissance;examen;specialite;decision;note"]
    lines += [f"{i:09d}0A;Eleve {_letters(i)};Camille;17/05/2008;CAP;{specialite};F;" for i in range(count)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _preview(world: dict, content: bytes) -> dict:
    meta = chargements.create_preview(
        "eleves", io.BytesIO(content), "base.csv", session_examen=db.session.get(SessionExamen, world["session_id"]),
        etablissement=db.session.get(Etablissement, world["etab_id"]), gestionnaire_id=None,
        acteur="gestionnaire@ac-test.fr")
    db.session.commit()
    assert meta["apercu"]["nb_erreurs"] == 0, meta["apercu"]["erreurs"][:3]
    return meta


def test_candidates_submitting_during_a_load_are_refused_then_none_is_lost(pg_app):
    world = _world()
    meta = _preview(world, _pupils_csv(6000))
    verrou.acquire(acteur="gestionnaire@ac-test.fr", gestionnaire_id=None, motif="base élèves")
    db.session.commit()
    load_done = threading.Event()
    refusals: list[int] = []
    accepted: list[int] = []

    def load() -> None:
        with pg_app.app_context():
            try:
                chargements.run(meta, acteur="gestionnaire@ac-test.fr", gestionnaire_id=None)
            finally:
                load_done.set()
                db.session.remove()

    def candidate(n: int) -> None:
        with pg_app.app_context():
            try:
                while not load_done.is_set():
                    try:
                        accepted.append(_register(world, n))
                    except DatabaseLocked:
                        refusals.append(n)
                    time.sleep(0.02)
            finally:
                db.session.remove()

    loader = threading.Thread(target=load)
    loader.start()
    crashes = _threads(candidate, 8)
    loader.join(timeout=600)
    assert crashes == []
    assert accepted == [], "a registration was written while the base was locked"
    assert set(refusals) == set(range(8))
    assert db.session.scalar(select(func.count(Eleve.id))) == 6000
    assert db.session.scalar(select(func.count(Inscription.id))) == 0

    assert verrou.release(acteur="gestionnaire@ac-test.fr")
    db.session.commit()
    retried: list[int] = []

    def retry(n: int) -> None:
        with pg_app.app_context():
            try:
                retried.append(_register(world, n))
            finally:
                db.session.remove()

    assert _threads(retry, 8) == []
    assert sorted(retried) == list(range(1, 9))
    assert db.session.scalar(select(func.count(Inscription.id))) == 8


CHILD = textwrap.dedent('''
    """A manager's process that dies in the middle of a pupil-base load."""
    import io, sys, time
    from datetime import timedelta
    from pathlib import Path

    from portal import create_app
    from portal.config import TestingConfig
    from portal.extensions import db
    from portal.models import Etablissement, SessionExamen
    from portal.services import chargements, echanges, verrou

    url, uploads, csv_path, ready, session_id, etab_id = sys.argv[1:7]
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, CHARGEMENTS_DIR=uploads,
                     LOCK_TTL=timedelta(seconds=3))
    with app.app_context():
        verrou.acquire(acteur="enfant@ac-test.fr", gestionnaire_id=None, motif="chargement interrompu")
        db.session.commit()
        meta = chargements.create_preview(
            "eleves", io.BytesIO(Path(csv_path).read_bytes()), "base.csv",
            session_examen=db.session.get(SessionExamen, int(session_id)),
            etablissement=db.session.get(Etablissement, int(etab_id)), gestionnaire_id=None,
            acteur="enfant@ac-test.fr")
        db.session.commit()
        heartbeat = echanges.heartbeat

        def heartbeat_then_hang(echange_id):
            # The first chunk of rows is written inside the load's transaction: say so, then hang.
            heartbeat(echange_id)
            Path(ready).write_text(str(echange_id))
            time.sleep(600)

        echanges.heartbeat = heartbeat_then_hang
        chargements.run(meta, acteur="enfant@ac-test.fr", gestionnaire_id=None)
''')


def test_a_load_killed_midway_leaves_nothing_and_its_lock_expires(pg_app, postgres_url, tmp_path):
    world = _world()
    script, csv_path, ready = tmp_path / "child.py", tmp_path / "base.csv", tmp_path / "ready"
    script.write_text(CHILD)
    csv_path.write_bytes(_pupils_csv(7000))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PORTAL_ENV": "testing"}
    child = subprocess.Popen([sys.executable, str(script), postgres_url, pg_app.config["CHARGEMENTS_DIR"],
                              str(csv_path), str(ready), str(world["session_id"]), str(world["etab_id"])],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not ready.exists() and child.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        assert ready.exists(), child.communicate(timeout=10)[0].decode()[-3000:]
        echange_id = int(ready.read_text())
        # Mid-load: the exchange is visible and running, the lock held, no pupil row visible yet.
        db.session.rollback()
        assert db.session.get(Echange, echange_id).etat == "en_cours"
        assert verrou.current() is not None
        assert db.session.scalar(select(func.count(Eleve.id))) == 0
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    time.sleep(3.5)  # past the lock TTL (3 s) and the heartbeat timeout (2 s)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Eleve.id))) == 0
    echange = db.session.get(Echange, echange_id)
    assert echanges.etat_affiche(echange) == "echec"
    assert verrou.current() is None
    # The base is writable again and another manager may lock it and load.
    verrou.assert_writable()
    verrou.acquire(acteur="autre@ac-test.fr", gestionnaire_id=None, motif="reprise")
    db.session.commit()
    echanges.start("eleves", acteur="autre@ac-test.fr")
    db.session.commit()
    db.session.refresh(echange)
    assert echange.etat == "echec"
