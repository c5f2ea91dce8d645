"""Pupil-base loads (issue 15, point 3): implausible birth dates are refused with what is
wrong with them, an unchanged base re-loads with no modification, and the pupils' sort
keys follow every write of a load (creation, update, cancellation)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.collation import cle_tri
from portal.extensions import db
from portal.models import Echange, Eleve, Etablissement, Examen, Specialite

from .chargements_support import (  # noqa: F401
    app_overrides,
    catalogue,
    eleves_csv,
    gestionnaire,
    manager_client,
    upload,
)


def _etab():
    return db.session.scalar(select(Etablissement).where(Etablissement.code == "0130001A"))


def _apply(http, data):
    response = upload(http, data, etablissement="0130001A")
    assert response.status_code == 302, response.get_data(as_text=True)
    jeton = response.headers["Location"].rsplit("/", 1)[-1]
    return jeton, http.post(f"/gestionnaire/chargements/{jeton}/appliquer")


def _last_echange() -> Echange:
    db.session.expire_all()
    return db.session.scalars(select(Echange).order_by(Echange.id.desc())).first()


def _preview(http, data) -> str:
    response = upload(http, data, etablissement="0130001A")
    assert response.status_code == 302, response.get_data(as_text=True)
    return http.get(response.headers["Location"]).get_data(as_text=True)


def test_a_birth_date_after_today_is_refused_as_in_the_future(manager_client, catalogue):
    demain = date.today() + timedelta(days=1)
    page = _preview(manager_client, eleves_csv(f"123456789AB;Martin;Léa;{demain:%d/%m/%Y};BCP;MELEC;F;"))
    assert "La date de naissance ne peut pas être dans le futur." in page
    assert "format jj/mm/aaaa" not in page


def test_an_implausibly_old_or_young_birth_date_is_refused_as_implausible(manager_client, catalogue):
    jeune = date(date.today().year - 5, 6, 1)
    page = _preview(manager_client, eleves_csv("123456789AB;Martin;Léa;01/01/1901;BCP;MELEC;F;",
                                               f"234567890BC;Bernard;Hugo;{jeune:%d/%m/%Y};BCP;MELEC;F;"))
    assert page.count("date de naissance n&#39;est pas plausible") == 2
    assert "plus de 80 ans" in page and "moins de 12 ans" in page
    assert "format jj/mm/aaaa" not in page


def test_a_malformed_birth_date_still_names_the_format(manager_client, catalogue):
    page = _preview(manager_client, eleves_csv("123456789AB;Martin;Léa;31/02/2008;BCP;MELEC;F;"))
    assert "Date invalide : format jj/mm/aaaa" in page


def test_reloading_an_unchanged_base_reports_no_modification(manager_client, catalogue, make_eleve):
    """Pupils written by another path than a load (demo data, an older version) with their
    names in mixed case: the same base loaded again changes nothing."""
    etab = _etab()
    bcp = db.session.scalar(select(Examen).where(Examen.code == "BCP"))
    melec = db.session.scalar(select(Specialite).where(Specialite.code == "MELEC"))
    make_eleve(etab, catalogue, bcp, ine="123456789AB", nom="Le  Gall", prenoms="Léa  Camille",
               date_naissance=date(2008, 5, 17), specialite_id=melec.id)
    make_eleve(etab, catalogue, bcp, ine="234567890BC", nom="dupont", prenoms="Hugo",
               date_naissance=date(2007, 11, 2), specialite_id=melec.id)
    fichier = eleves_csv("123456789AB;Le Gall;Léa Camille;17/05/2008;BCP;MELEC;F;",
                         "234567890BC;Dupont;Hugo;02/11/2007;BCP;MELEC;F;")
    _jeton, response = _apply(manager_client, fichier)
    assert response.status_code == 302
    echange = _last_echange()
    assert (echange.etat, echange.nb_crees, echange.nb_modifies, echange.nb_supprimes) == ("succes", 0, 0, 0)
    _jeton, response = _apply(manager_client, fichier)
    assert (_last_echange().nb_modifies, _last_echange().nb_crees) == (0, 0)


def _eleves_in_order() -> list[str]:
    db.session.expire_all()
    return [e.nom for e in db.session.scalars(select(Eleve).where(Eleve.present.is_(True))
                                              .order_by(Eleve.cle_tri, Eleve.id))]


def test_a_load_writes_the_sort_keys_and_an_update_or_a_cancellation_keeps_them_right(manager_client, catalogue):
    _apply(manager_client, eleves_csv("123456789AB;Müller;Léa;17/05/2008;BCP;MELEC;F;",
                                      "234567890BC;Émery;Hugo;02/11/2007;BCP;MELEC;F;",
                                      "345678901CD;d'Alembert;Inès;23/01/2008;BCP;MELEC;F;"))
    assert _eleves_in_order() == ["D'ALEMBERT", "ÉMERY", "MÜLLER"]
    for eleve in db.session.scalars(select(Eleve)):
        assert eleve.cle_tri == cle_tri(eleve.nom, eleve.prenoms)
    _jeton, response = _apply(manager_client, eleves_csv("123456789AB;Abel;Léa;17/05/2008;BCP;MELEC;F;",
                                                         "234567890BC;Émery;Hugo;02/11/2007;BCP;MELEC;F;",
                                                         "345678901CD;d'Alembert;Inès;23/01/2008;BCP;MELEC;F;"))
    assert _last_echange().nb_modifies == 1
    assert _eleves_in_order() == ["ABEL", "D'ALEMBERT", "ÉMERY"]
    echange = _last_echange()
    response = manager_client.post(f"/gestionnaire/echanges/{echange.id}/annuler",
                                   data={"confirmation": "oui"})
    assert _last_echange().etat == "annule", response.get_data(as_text=True)[:2000]
    assert _eleves_in_order() == ["D'ALEMBERT", "ÉMERY", "MÜLLER"]
    for eleve in db.session.scalars(select(Eleve)):
        assert eleve.cle_tri == cle_tri(eleve.nom, eleve.prenoms)
