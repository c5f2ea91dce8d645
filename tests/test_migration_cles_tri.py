"""Migration c15a0001a001 computes the French sort keys of the rows already there, with its
own frozen copy of the key function, which must give the application's keys; it also
stores existing pupils' names as a load does (issue 15, points 1 and 3)."""
from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from portal import create_app
from portal.collation import cle_tri
from portal.config import TestingConfig
from portal.extensions import db
from portal.models import (
    AutorisationTardive,
    Candidat,
    Eleve,
    Etablissement,
    Gestionnaire,
    SessionExamen,
    Specialite,
)
from portal.services.referentiel import ensure_examens

MIGRATION = next((Path(__file__).resolve().parents[1] / "migrations" / "versions").glob("*_c15a0001a001_*.py"))
NOMS = ["Zola", "Müller", "Émery", "Bénard", "dupont", "D'Alembert", "Le Gall", "Lefèvre-d’Orçay", "Œuvray",
        "N'Guessan", "Ñúñez", "", "  Da  Silva ",
        # contractions (Catalan L·L, Cyrillic with a breve): the application falls back on pyuca
        "Col·lecció", "L-·L", "Ăndrei", "Й", "Łódź", "İstanbul", "中文", "x\u00a0y\tz"]


def _migration():
    spec = importlib.util.spec_from_file_location("migration_c15a0001a001", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_key_function_is_the_application_one():
    frozen = _migration().cle_tri
    for nom in NOMS:
        assert frozen(nom) == cle_tri(nom)
        assert frozen(nom, "Léa Anne") == cle_tri(nom, "Léa Anne")
        assert frozen(nom, "Léa", nom) == cle_tri(nom, "Léa", nom)


def _reset(url: str) -> None:
    if url.startswith("postgresql"):
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


def _fill_and_check(url: str) -> None:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        _reset(url)
        upgrade()
        examens = ensure_examens()
        session = SessionExamen(annee=2027, libelle="Session 2027", academie="Test", date_examen=date(2027, 6, 15))
        etab = Etablissement(code="0130001A", nom="Lycée Émile Zola", type="LP", commune="Évry",
                             suivi_password_hash="x", inscription_password_hash="x")
        db.session.add_all([session, etab,
                            Specialite(examen=examens["CAP"], code="C1", libelle="Électricité"),
                            Gestionnaire(email="a@ac-test.fr", nom="Élise Durand", password_hash="x")])
        db.session.flush()
        db.session.add_all([
            Eleve(session_id=session.id, etablissement_id=etab.id, ine="123456789AB", nom="x", prenoms="Léa",
                  date_naissance=date(2008, 1, 1), examen_id=examens["CAP"].id, decision="F"),
            Candidat(nom_naissance="Émery", prenom1="Léa", sexe="F", date_naissance=date(2008, 1, 1),
                     commune_naissance="Lyon", pays_naissance="France", nationalite="Française", statut="individuel"),
            AutorisationTardive(session_id=session.id, service="public", examen_id=examens["CAP"].id, nom="dupont",
                                prenom="Léa", date_naissance=date(2008, 1, 1), cle_identite="k", granted_by="t"),
        ])
        db.session.commit()
        # Rows as an older version left them: names in mixed case, keys not computed yet.
        db.session.execute(text("UPDATE eleves SET nom = 'Le  Gall', prenoms = 'Léa  Anne'"))
        db.session.commit()
        downgrade(revision="c15a0001a002")
        upgrade()
        db.session.expire_all()
        eleve = db.session.scalar(select(Eleve))
        assert (eleve.nom, eleve.prenoms) == ("LE GALL", "Léa Anne")
        assert eleve.cle_tri == cle_tri("LE GALL", "Léa Anne")
        etab = db.session.scalar(select(Etablissement))
        assert (etab.cle_tri, etab.cle_tri_commune) == (cle_tri("Lycée Émile Zola"), cle_tri("Évry", "Lycée Émile Zola"))
        assert db.session.scalar(select(Specialite)).cle_tri == cle_tri("Électricité")
        assert db.session.scalar(select(Gestionnaire)).cle_tri == cle_tri("Élise Durand")
        assert db.session.scalar(select(Candidat)).cle_tri == cle_tri("Émery", "Léa")
        assert db.session.scalar(select(AutorisationTardive)).cle_tri == cle_tri("dupont", "Léa")
        db.session.remove()
        _reset(url)
        db.engine.dispose()


def test_the_migration_fills_the_keys_of_existing_rows_on_sqlite(tmp_path):
    _fill_and_check(f"sqlite:///{tmp_path / 'm.sqlite'}")


@pytest.mark.postgres
def test_the_migration_fills_the_keys_of_existing_rows_on_postgresql(postgres_url):
    from tests import conftest

    _fill_and_check(postgres_url)
    conftest._PG_SCHEMA_READY.discard(postgres_url)
