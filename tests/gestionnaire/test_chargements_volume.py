"""Pupil bases of a few thousand lines through the bulk path (COPY on PostgreSQL,
executemany on SQLite): purge and re-import, then cancelling loads in turn restores each
previous base exactly. Run with TEST_DATABASE_URL to exercise the COPY path."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Echange, Eleve, Etablissement, Inscription, Specialite

from .chargements_support import (  # noqa: F401
    app_overrides,
    catalogue,
    eleves_csv,
    gestionnaire,
    manager_client,
    upload,
)

TAILLE = 3000


def _ligne(n: int, decision: str = "F", note: str = "") -> str:
    specialite = "MELEC" if n % 2 else ""
    return (f"{100000000 + n:09d}AB;Nom{n};Prénom  {n};{1 + n % 28:02d}/05/2008;BCP;{specialite};"
            f"{decision};{note}")


def _load(http, lines: list[str]) -> Echange:
    response = upload(http, eleves_csv(*lines), etablissement="0130001A")
    assert response.status_code == 302, response.get_data(as_text=True)
    response = http.post(response.headers["Location"] + "/appliquer")
    echange_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    db.session.expire_all()
    return db.session.get(Echange, echange_id)


def _base() -> dict[str, tuple]:
    etab = db.session.scalar(select(Etablissement).where(Etablissement.code == "0130001A"))
    rows = db.session.execute(select(Eleve.ine, Eleve.nom, Eleve.prenoms, Eleve.date_naissance,
                                     Eleve.specialite_id, Eleve.decision, Eleve.note, Eleve.present,
                                     Eleve.echange_id).where(Eleve.etablissement_id == etab.id))
    return {row.ine: tuple(row) for row in rows}


def _cancel(http, echange: Echange) -> None:
    response = http.post(f"/gestionnaire/echanges/{echange.id}/annuler", data={"confirmation": "oui"})
    assert "Chargement annulé" in http.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()


def test_large_reloads_purge_update_and_cancel_back_to_each_previous_base(
        manager_client, catalogue, make_inscription):
    first = _load(manager_client, [_ligne(n) for n in range(TAILLE)])
    assert (first.etat, first.nb_crees, first.nb_lignes) == ("succes", TAILLE, TAILLE)
    base_a = _base()
    assert base_a["100000003AB"][1:3] == ("NOM3", "Prénom 3"), "names upper-cased, spaces collapsed"
    assert base_a["100000003AB"][4] is not None and base_a["100000004AB"][4] is None
    melec = db.session.scalar(select(Specialite).where(Specialite.code == "MELEC"))
    etab = db.session.scalar(select(Etablissement).where(Etablissement.code == "0130001A"))
    inscrit = make_inscription(catalogue, melec, etab, eleve_id=db.session.scalar(
        select(Eleve.id).where(Eleve.ine == "100000001AB")))

    # B: the first 300 leave (one of them registered), 300 change decision, 300 arrive.
    lines_b = ([_ligne(n, "S", "sous condition") if n < 600 else _ligne(n) for n in range(300, TAILLE)]
               + [_ligne(n) for n in range(TAILLE, TAILLE + 300)])
    second = _load(manager_client, lines_b)
    assert (second.nb_crees, second.nb_modifies, second.nb_supprimes) == (300, 300, 300)
    assert "dont 1 déjà inscrit(s)" in second.message
    base_b = _base()
    assert not base_b["100000001AB"][7] and base_b["100000301AB"][5:7] == ("S", "sous condition")
    assert db.session.get(Inscription, inscrit.id).hors_base

    # C: the registered pupil comes back, nothing else changes.
    third = _load(manager_client, lines_b + [_ligne(1)])
    assert (third.nb_crees, third.nb_modifies, third.nb_supprimes) == (0, 1, 0)
    assert _base()["100000001AB"][7] and not db.session.get(Inscription, inscrit.id).hors_base

    _cancel(manager_client, third)
    assert _base() == base_b and db.session.get(Inscription, inscrit.id).hors_base
    _cancel(manager_client, second)
    assert _base() == base_a and not db.session.get(Inscription, inscrit.id).hors_base


def test_errors_anywhere_in_a_large_file_are_all_reported_and_nothing_is_loaded(manager_client, catalogue):
    lines = [_ligne(n) for n in range(TAILLE)]
    lines[10] = lines[2500]  # duplicate of a later line: the later one is named
    lines[1200] = lines[1200].replace("/05/2008", "/13/2008")
    lines[2999] = lines[2999].replace(";BCP;", ";XXX;")
    response = upload(manager_client, eleves_csv(*lines), etablissement="0130001A")
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Fichier refusé : 3 erreurs" in page
    assert "<td>1202</td>" in page and "<td>date_naissance</td>" in page
    assert "<td>3001</td>" in page and "<td>examen</td>" in page
    assert "<td>2502</td>" in page and "à la ligne 12." in page
    assert db.session.scalar(select(Eleve.id).limit(1)) is None
