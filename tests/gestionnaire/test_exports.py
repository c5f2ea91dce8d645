"""Incremental and full CSV unloads from the manager pages."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Echange
from portal.services.inscriptions import mark_changed, set_cancelled

from .dechargements_fixtures import admin, manager, parse_csv, specialite  # noqa: F401


def _incremental(client):
    response = client.post("/gestionnaire/dechargements/incremental")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response.data


def _numbers(data: bytes) -> list[tuple[str, str, str]]:
    return [(row["numero"], row["version"], row["statut"]) for row in parse_csv(data)]


def test_each_change_is_unloaded_exactly_once(client, manager, session_examen, specialite, make_inscription):
    first = make_inscription(session_examen, specialite)
    second = make_inscription(session_examen, specialite)

    assert _numbers(_incremental(client)) == [(str(first.numero), "0", "active"), (str(second.numero), "0", "active")]
    assert _numbers(_incremental(client)) == []

    first.version += 1
    mark_changed(first)
    set_cancelled(second, True, par="test")
    third = make_inscription(session_examen, specialite)
    db.session.commit()

    assert _numbers(_incremental(client)) == [
        (str(first.numero), "1", "active"), (str(second.numero), "0", "annulee"), (str(third.numero), "0", "active")]
    assert _numbers(_incremental(client)) == []


def test_full_unload_carries_everything_without_moving_the_cursor(client, manager, session_examen, specialite,
                                                                  make_inscription):
    make_inscription(session_examen, specialite)
    _incremental(client)
    later = make_inscription(session_examen, specialite, statut="annulee")

    full = client.post("/gestionnaire/dechargements/complet")
    assert len(parse_csv(full.data)) == 2

    assert _numbers(_incremental(client)) == [(str(later.numero), "0", "annulee")]


def test_unload_is_recorded_as_an_exchange_with_its_range_and_hash(client, manager, session_examen, specialite,
                                                                   make_inscription):
    make_inscription(session_examen, specialite)
    make_inscription(session_examen, specialite)
    data = _incremental(client)

    echange = db.session.scalars(select(Echange).where(Echange.type == "export_csv")).one()
    assert (echange.etat, echange.nb_lignes, echange.curseur_debut, echange.curseur_fin) == ("succes", 2, 0, 2)
    assert echange.fichier_sha256 == hashlib.sha256(data).hexdigest()
    assert echange.acteur == manager.email
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dechargement.csv")).one()
    assert event.actor_label == manager.email and event.details["nb_lignes"] == 2


def test_cancelled_exchange_range_goes_back_to_the_next_unload(client, manager, session_examen, specialite,
                                                               make_inscription):
    inscription = make_inscription(session_examen, specialite)
    _incremental(client)
    echange = db.session.scalars(select(Echange).where(Echange.type == "export_csv")).one()
    echange.etat = "annule"
    db.session.commit()

    assert _numbers(_incremental(client)) == [(str(inscription.numero), "0", "active")]


def test_csv_neutralises_formulas_and_keeps_identity_fields(client, manager, session_examen, specialite,
                                                            make_inscription, make_etablissement):
    etab = make_etablissement(specialites=[specialite])
    make_inscription(session_examen, specialite, etab, candidat={
        "nom_naissance": '=HYPERLINK("http://x","y")', "prenom1": "+1+1", "nom_usage": "@SUM(A1)",
        "commune_naissance": "Saint-Étienne; Loire", "email": "o'hara@example.org"})

    [row] = parse_csv(client.post("/gestionnaire/dechargements/complet").data)

    assert row["nom_naissance"] == '\'=HYPERLINK("http://x","y")'
    assert row["prenom1"] == "'+1+1"
    assert row["nom_usage"] == "'@SUM(A1)"
    assert row["commune_naissance"] == "Saint-Étienne; Loire"
    assert row["etablissement"] == etab.code
    assert row["specialite"] == specialite.code and row["examen"] == "BCP"
    assert row["date_naissance"] == "2008-03-01"
    assert row["section_europeenne"] == "non"


def test_unload_page_shows_pending_changes_and_history(client, manager, session_examen, specialite,
                                                       make_inscription):
    make_inscription(session_examen, specialite)
    page = client.get("/gestionnaire/dechargements").get_data(as_text=True)
    assert "1 inscription à transmettre" in page
    _incremental(client)
    page = client.get("/gestionnaire/dechargements").get_data(as_text=True)
    assert "0 inscription à transmettre" in page
    assert "Déchargement CSV des inscriptions" in page


def test_unload_needs_a_manager(client, session_examen):
    response = client.post("/gestionnaire/dechargements/incremental")
    assert response.status_code == 302
    assert "/gestionnaire/connexion" in response.headers["Location"]
    assert db.session.scalar(select(Echange.id)) is None
