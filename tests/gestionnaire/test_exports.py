"""Incremental and full CSV unloads from the manager pages."""
from __future__ import annotations

import hashlib
import tracemalloc

import pytest

from sqlalchemy import select

from portal.extensions import db
from tests.conftest import csrf_from
from portal.models import AuditEvent, Echange
from portal.services import exports
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


def _bulk_registrations(session_examen, specialite, count: int) -> None:
    """``count`` registrations written in bulk (the shared primitive is one at a time)."""
    from datetime import date

    from sqlalchemy import insert

    from portal.models import Candidat, Inscription

    base = db.session.scalar(select(db.func.coalesce(db.func.max(Candidat.id), 0)))
    db.session.execute(insert(Candidat), [
        dict(id=base + n, nom_naissance=f"NOM{n}", prenom1="Alex", sexe="F", date_naissance=date(2008, 3, 1),
             commune_naissance="Lyon", pays_naissance="France", nationalite="Française", statut="individuel")
        for n in range(1, count + 1)])
    db.session.execute(insert(Inscription), [
        dict(session_id=session_examen.id, numero=n, version=0, candidat_id=base + n, examen_id=specialite.examen_id,
             specialite_id=specialite.id, forme="globale", source="public", cle_identite=f"NOM{n}|ALEX|2008-03-01",
             seq=n) for n in range(1, count + 1)])
    session_examen.dernier_numero = session_examen.dernier_changement = count
    db.session.commit()


def test_unload_memory_does_not_grow_with_the_number_of_rows(session_examen, specialite, tmp_path):
    # 10,000 rows of 32 columns: held in memory as Python objects they would take far more than
    # the bound (the CSV text alone is about 1.7 MB).
    _bulk_registrations(session_examen, specialite, 10_000)
    lot = exports.plan_export(session_examen)
    tracemalloc.start()
    try:
        with open(tmp_path / "gros.csv", "wb") as out:
            fichier = exports.write_csv(lot, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fichier.nb_lignes == 10_000 and fichier.taille > 1_500_000
    assert peak < 6_000_000, f"peak {peak / 1e6:.1f} MB"


def test_unload_and_catalogue_actions_need_the_csrf_token(app, client, manager, session_examen, specialite,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/gestionnaire/dechargements/incremental").status_code == 400
    assert client.post(f"/gestionnaire/catalogue/{specialite.id}/retirer").status_code == 400
    assert db.session.scalar(select(Echange.id)) is None

    page = client.get("/gestionnaire/dechargements").get_data(as_text=True)
    token = csrf_from(page)
    response = client.post("/gestionnaire/dechargements/incremental", data={"csrf_token": token})
    assert response.status_code == 200 and response.data.startswith("\ufeff".encode())


# --- streamed unloads (COPY on PostgreSQL, DB-API cursor on SQLite) --------------------


def _chunks(client, path: str) -> tuple[object, list[bytes]]:
    response = client.post(path, buffered=False)
    assert response.status_code == 200
    return response, response.response


def test_full_unload_is_streamed_in_chunks_and_recorded_with_the_hash_of_what_was_sent(
        client, manager, session_examen, specialite):
    _bulk_registrations(session_examen, specialite, 2_000)
    response, chunks = _chunks(client, "/gestionnaire/dechargements/complet")
    received = list(chunks)
    response.close()
    data = b"".join(received)

    assert len(received) > 3 and max(len(c) for c in received) < 100 * 1024, [len(c) for c in received]
    rows = parse_csv(data)
    assert [row["numero"] for row in rows] == [str(n) for n in range(1, 2_001)]
    assert data.count(b"\r\n") == 2_001 and data.count(b"\n") == 2_001
    echange = db.session.scalars(select(Echange).where(Echange.type == "export_csv")).one()
    assert (echange.etat, echange.nb_lignes) == ("succes", 2_000)
    assert (echange.curseur_debut, echange.curseur_fin) == (None, 2_000)
    assert (echange.fichier_sha256, echange.fichier_taille) == (hashlib.sha256(data).hexdigest(), len(data))


def test_interrupted_incremental_unload_is_failed_and_its_range_sent_again(client, manager, session_examen,
                                                                           specialite):
    _bulk_registrations(session_examen, specialite, 2_000)
    response, chunks = _chunks(client, "/gestionnaire/dechargements/incremental")
    iterator = iter(chunks)
    next(iterator), next(iterator)
    response.close()  # the client went away

    echange = db.session.scalars(select(Echange).where(Echange.type == "export_csv")).one()
    assert echange.etat == "echec" and "interrompu" in echange.message
    assert echange.fichier_sha256 is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dechargement.csv")).one()
    assert event.outcome == "echec"

    assert len(parse_csv(_incremental(client))) == 2_000
    assert _numbers(_incremental(client)) == []


def test_unload_cells_are_formatted_like_the_csv_writer_of_the_portal(client, manager, session_examen,
                                                                      specialite, make_inscription):
    from portal.csvutil import FORMULA_START, neutralise

    names = [start + "x" for start in FORMULA_START] + ['Le "Grand"; Loire', "Élodie ß", "'déjà"]
    prenoms = ("Ana", "Bea", "Cyd", "Dan", "Eva", "Fay", "Gus", "Hal", "Ida", "Jon", "Kim", "Lou")
    for name, prenom in zip(names, prenoms, strict=False):
        make_inscription(session_examen, specialite, section_europeenne=True,
                         candidat={"nom_naissance": name, "prenom1": prenom, "nom_usage": "",
                                   "adresse1": None})
    inscription = make_inscription(session_examen, specialite, statut="annulee")

    rows = parse_csv(client.post("/gestionnaire/dechargements/complet").data)

    assert [row["nom_naissance"] for row in rows[:-1]] == [neutralise(name) for name in names]
    assert {row["section_europeenne"] for row in rows[:-1]} == {"oui"}
    assert {(row["nom_usage"], row["adresse1"]) for row in rows} == {("", "")}
    last = rows[-1]
    assert last["annulee_le_utc"] == inscription.annulee_at.isoformat(sep=" ", timespec="seconds")
    assert last["cree_le_utc"] == inscription.created_at.isoformat(sep=" ", timespec="seconds")
    assert (last["statut"], last["section_europeenne"]) == ("annulee", "non")
    assert last["date_naissance"] == "2008-03-01"


def test_unload_being_downloaded_does_not_block_writers(app, client, manager, session_examen, specialite):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL readers never block writers")
    import sqlite3

    _bulk_registrations(session_examen, specialite, 2_000)
    response, chunks = _chunks(client, "/gestionnaire/dechargements/complet")
    next(iter(chunks))
    other = sqlite3.connect(db.engine.url.database, timeout=0.5, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if the stream held the write lock
        other.execute("ROLLBACK")
    finally:
        other.close()
        response.close()
