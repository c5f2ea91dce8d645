"""Running exchanges: one load at a time, a dead one shows as failed."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Echange, utcnow
from portal.services import ServiceError, echanges, verrou

from .chargements_support import app_overrides, gestionnaire, locked, manager_client  # noqa: F401


def test_a_second_load_is_refused_while_one_runs(app, locked, gestionnaire):  # noqa: F811
    echanges.start("eleves", acteur="a@ac-test.fr")
    db.session.commit()
    with pytest.raises(ServiceError, match="déjà en cours"):
        echanges.start("etablissements", acteur="b@ac-test.fr")


def test_a_running_exchange_that_died_shows_as_failed(manager_client, locked):
    echange = echanges.start("eleves", acteur="a@ac-test.fr")
    echange.heartbeat_at = echange.started_at = utcnow() - timedelta(minutes=30)
    db.session.commit()
    page = manager_client.get(f"/gestionnaire/echanges/{echange.id}").get_data(as_text=True)
    assert "Échec" in page and "cessé de donner des nouvelles" in page
    assert f'echanges/{echange.id}"' in manager_client.get("/gestionnaire/echanges?etat=echec").get_data(as_text=True)
    # The next load records it as failed and may run.
    echanges.start("etablissements", acteur="b@ac-test.fr")
    db.session.commit()
    assert db.session.get(Echange, echange.id).etat == "echec"


def test_a_load_needs_the_database_lock(app):
    with pytest.raises(ServiceError, match="Verrouillez la base avant un chargement"):
        echanges.start("eleves", acteur="a@ac-test.fr")


@pytest.mark.postgres
def test_two_managers_starting_a_load_at_once_exactly_one_runs(pg_app):
    verrou.acquire(acteur="a@ac-test.fr", gestionnaire_id=None, motif="chargement")
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start(acteur: str) -> None:
        with pg_app.app_context():
            barrier.wait()
            try:
                echanges.start("eleves", acteur=acteur)
                db.session.commit()
                outcomes.append("ok")
            except ServiceError:
                db.session.rollback()
                outcomes.append("refus")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start, args=(f"g{i}@ac-test.fr",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "refus"]
    assert len(db.session.scalars(select(Echange).where(Echange.etat == "en_cours")).all()) == 1
