"""Loads through the manager pages: upload, preview, apply, purge semantics, cancel."""
from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Echange, Eleve, Etablissement, Inscription, Specialite
from portal.services import verrou

from .chargements_support import (  # noqa: F401
    app_overrides,
    catalogue,
    eleves_csv,
    exemple,
    gestionnaire,
    locked,
    manager_client,
    upload,
)


def _etab(code="0130001A"):
    return db.session.scalar(select(Etablissement).where(Etablissement.code == code))


def _jeton(response):
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def _apply(http, data, **kw):
    jeton = _jeton(upload(http, data, **kw))
    return jeton, http.post(f"/gestionnaire/chargements/{jeton}/appliquer")


def _eleves(etab):
    rows = db.session.scalars(select(Eleve).where(Eleve.etablissement_id == etab.id).order_by(Eleve.ine))
    return {e.ine: e for e in rows}


def test_preview_shows_counts_and_samples_and_writes_nothing(manager_client, catalogue):
    jeton = _jeton(upload(manager_client, exemple("eleves.csv"), etablissement="0130001A"))
    page = manager_client.get(f"/gestionnaire/chargements/{jeton}").get_data(as_text=True)
    assert "Aucune erreur dans les 4 ligne(s)" in page
    assert "4 création(s)" in page and "123456789AB - MARTIN Léa Camille (BCP)" in page
    assert db.session.scalar(select(func.count(Eleve.id))) == 0


def test_apply_loads_the_pupil_base_and_logs_a_successful_exchange(manager_client, catalogue, tmp_path):
    jeton, response = _apply(manager_client, exemple("eleves.csv"), etablissement="0130001A")
    assert response.status_code == 302
    eleves = _eleves(_etab())
    assert sorted(eleves) == ["123456789AB", "234567890BC", "345678901CD", "456789012DE"]
    assert eleves["234567890BC"].decision == "S" and eleves["234567890BC"].note.startswith("Sous réserve")
    assert eleves["123456789AB"].date_naissance == date(2008, 5, 17)
    echange = db.session.scalars(select(Echange).order_by(Echange.id.desc())).first()
    assert (echange.etat, echange.type, echange.nb_crees, echange.acteur) == ("succes", "eleves", 4,
                                                                              "gestionnaire1@ac-test.fr")
    assert len(echange.fichier_sha256) == 64
    assert not list((tmp_path / "chargements").glob(f"{jeton}*")), "temporary files removed after apply"
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Réussi" in page and "Annuler ce chargement" in page
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "echange.debute" in actions and "echange.termine" in actions


def test_apply_is_refused_while_the_database_is_not_locked(manager_client, catalogue):
    verrou.release(acteur="test")
    db.session.commit()
    jeton, response = _apply(manager_client, exemple("eleves.csv"), etablissement="0130001A")
    assert response.headers["Location"].endswith(f"/chargements/{jeton}")
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Verrouillez la base avant un chargement" in page
    assert db.session.scalar(select(func.count(Eleve.id))) == 0


def test_purge_and_reimport(manager_client, catalogue, make_inscription):
    etab = _etab()
    _apply(manager_client, exemple("eleves.csv"), etablissement="0130001A")
    eleves = _eleves(etab)
    melec = db.session.scalar(select(Specialite).where(Specialite.code == "MELEC"))
    inscrit = make_inscription(catalogue, melec, etab, eleve_id=eleves["123456789AB"].id)
    # Martin (registered) and Dubois leave, Bernard changes decision, a new pupil arrives.
    nouveau = eleves_csv("234567890BC;Bernard;Hugo;02/11/2007;BCP;COMMERCE;F;",
                         "456789012DE;Nguyen;Thomas;09/09/2008;BCP;;F;",
                         "567890123EF;Petit;Jade;01/02/2008;CAP;CUISINE;F;")
    jeton = _jeton(upload(manager_client, nouveau, etablissement="0130001A"))
    page = manager_client.get(f"/gestionnaire/chargements/{jeton}").get_data(as_text=True)
    assert "1 création(s), 1 modification(s), 2 élève(s) retiré(s) de la base dont 1 déjà inscrit(s)" in page
    manager_client.post(f"/gestionnaire/chargements/{jeton}/appliquer")
    db.session.expire_all()
    eleves = _eleves(etab)
    assert not eleves["123456789AB"].present and not eleves["345678901CD"].present
    assert eleves["234567890BC"].present and eleves["234567890BC"].decision == "F"
    assert eleves["567890123EF"].present
    inscription = db.session.get(Inscription, inscrit.id)
    assert inscription.hors_base and inscription.statut == "active"
    # Back in a later file: present again, the flag is lifted.
    _apply(manager_client, exemple("eleves.csv"), etablissement="0130001A")
    db.session.expire_all()
    assert _eleves(etab)["123456789AB"].present
    assert not db.session.get(Inscription, inscrit.id).hors_base


def test_cancelling_a_pupil_load_restores_the_previous_base(manager_client, catalogue, make_inscription):
    etab = _etab()
    _apply(manager_client, exemple("eleves.csv"), etablissement="0130001A")
    melec = db.session.scalar(select(Specialite).where(Specialite.code == "MELEC"))
    inscrit = make_inscription(catalogue, melec, etab, eleve_id=_eleves(etab)["123456789AB"].id)
    _jeton_, response = _apply(manager_client, eleves_csv("234567890BC;Bernard;Hugo;02/11/2007;BCP;COMMERCE;D;x",
                                                          "567890123EF;Petit;Jade;01/02/2008;CAP;CUISINE;F;"),
                               etablissement="0130001A")
    echange_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    response = manager_client.post(f"/gestionnaire/echanges/{echange_id}/annuler", data={"confirmation": "oui"})
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Chargement annulé" in page and "Annulé" in page
    db.session.expire_all()
    eleves = _eleves(etab)
    assert sorted(eleves) == ["123456789AB", "234567890BC", "345678901CD", "456789012DE"]
    assert all(e.present for e in eleves.values())
    assert eleves["234567890BC"].decision == "S"
    assert not db.session.get(Inscription, inscrit.id).hors_base
    echange = db.session.get(Echange, echange_id)
    assert echange.etat == "annule" and echange.annule_par == "gestionnaire1@ac-test.fr"
    assert "echange.annule" in db.session.scalars(select(AuditEvent.action)).all()


def test_cancelling_an_establishment_load_removes_what_it_created(manager_client, catalogue):
    data = ("code_uai;nom;type;commune;specialites;ccf\n"
            "0130001A;Lycée Jean Moulin renommé;LP;Marseille;BCP:MELEC;oui\n"
            "0130009Z;Nouveau lycée;LPO;Arles;CAP:CUISINE;non\n").encode()
    _jeton_, response = _apply(manager_client, data, type_="etablissements")
    echange_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert _etab("0130009Z") is not None and _etab().nom == "Lycée Jean Moulin renommé"
    manager_client.post(f"/gestionnaire/echanges/{echange_id}/annuler", data={"confirmation": "oui"})
    db.session.expire_all()
    assert _etab("0130009Z") is None
    etab = _etab()
    assert etab.nom == "Lycée professionnel Jean Moulin" and not etab.ccf_habilite
    assert [s.code for s in etab.specialites] == ["COMMERCE", "CUISINE", "MELEC"]


def test_cancel_is_refused_when_a_later_load_touched_the_same_rows_or_created_rows_are_used(
        manager_client, catalogue, make_inscription):
    _j, first = _apply(manager_client, exemple("eleves.csv"), etablissement="0130001A")
    first_id = int(first.headers["Location"].rsplit("/", 1)[-1])
    _j, second = _apply(manager_client, eleves_csv("123456789AB;Martin;Léa;17/05/2008;BCP;MELEC;S;cond"),
                        etablissement="0130001A")
    response = manager_client.post(f"/gestionnaire/echanges/{first_id}/annuler", data={"confirmation": "oui"})
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "plus récent, a modifié les mêmes données" in page
    assert db.session.get(Echange, first_id).etat == "succes"
    # The establishments load created 0130003C; registrations there forbid cancelling it.
    etab_load = db.session.scalar(select(Echange).where(Echange.type == "etablissements"))
    cuisine = db.session.scalar(select(Specialite).where(Specialite.code == "CUISINE"))
    make_inscription(catalogue, cuisine, _etab("0130003C"))
    response = manager_client.post(f"/gestionnaire/echanges/{etab_load.id}/annuler", data={"confirmation": "oui"})
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "sont maintenant utilisés par des inscriptions" in page
    assert _etab("0130003C") is not None


def test_exchange_log_lists_loads_and_downloads_the_error_report(manager_client, catalogue):
    lines = [f"{100000000 + i:09d}AB;Nom{i};Prénom;01/01/2008;BCP;;F;" for i in range(600)]
    lines[498] = "999999999ZZ;Nom;Prénom;31/02/2008;BCP;;F;"  # line 500 of the file
    jeton = _jeton(upload(manager_client, eleves_csv(*lines), etablissement="0130001A"))
    page = manager_client.get(f"/gestionnaire/chargements/{jeton}").get_data(as_text=True)
    assert "Fichier refusé : 1 erreur" in page and "<td>500</td>" in page
    response = manager_client.post(f"/gestionnaire/chargements/{jeton}/appliquer")
    assert response.status_code == 302  # sent back to the preview, nothing applied
    assert db.session.scalar(select(func.count(Eleve.id))) == 0
    echange = db.session.scalars(select(Echange).where(Echange.etat == "echec")).one()
    listing = manager_client.get("/gestionnaire/echanges?etat=echec").get_data(as_text=True)
    assert f'/gestionnaire/echanges/{echange.id}"' in listing and "Échec" in listing
    report = manager_client.get(f"/gestionnaire/echanges/{echange.id}/rapport.csv")
    assert report.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["ligne", "colonne", "message"]
    assert rows[1][:2] == ["500", "date_naissance"]
