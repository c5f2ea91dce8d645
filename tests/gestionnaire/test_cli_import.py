"""``flask import ...``: exit codes and messages."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Echange, Eleve, Etablissement, Specialite
from portal.services import verrou
from portal.services.passwords import verify_password

from .chargements_support import EXEMPLES, app_overrides, gestionnaire  # noqa: F401


def test_sample_files_load_in_order_and_new_establishments_get_their_code_as_passwords(
        runner, examens, session_examen):
    for kind in ("specialites", "etablissements"):
        result = runner.invoke(args=["import", kind, str(EXEMPLES / f"{kind}.csv")])
        assert result.exit_code == 0, result.output
        assert "réussi" in result.output
    etab = db.session.scalar(select(Etablissement).where(Etablissement.code == "0130001A"))
    assert [s.code for s in etab.specialites] == ["COMMERCE", "CUISINE", "MELEC"]
    assert verify_password(etab.suivi_password_hash, "0130001A")
    assert verify_password(etab.inscription_password_hash, "0130001A")
    assert etab.suivi_password_default and etab.inscription_password_default
    result = runner.invoke(args=["import", "eleves", "--etablissement", "0130001a", str(EXEMPLES / "eleves.csv")])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Eleve.id))) == 4
    assert verrou.current() is None, "the command releases the lock it took"
    assert [e.etat for e in db.session.scalars(select(Echange).order_by(Echange.id))] == ["succes"] * 3


def test_dry_run_writes_nothing(runner, examens):
    result = runner.invoke(args=["import", "specialites", "--dry-run", str(EXEMPLES / "specialites.csv")])
    assert result.exit_code == 0, result.output
    assert "5 création(s)" in result.output and "--dry-run" in result.output
    assert db.session.scalar(select(func.count(Specialite.id))) == 0


def test_file_with_errors_exits_1_and_lists_them(runner, examens, tmp_path):
    path = tmp_path / "etab.csv"
    path.write_text("code_uai;nom;type\n0130001A;Lycée;LP\n123;Autre;XX\n", encoding="utf-8")
    result = runner.invoke(args=["import", "etablissements", str(path)])
    assert result.exit_code == 1
    assert "Fichier refusé : 2 erreurs" in result.output
    assert "Ligne 3, colonne code_uai : Code UAI invalide" in result.output
    assert db.session.scalar(select(func.count(Etablissement.id))) == 0


def test_lock_held_by_a_manager_exits_2(runner, examens, gestionnaire):  # noqa: F811
    verrou.acquire(acteur=gestionnaire.email, gestionnaire_id=gestionnaire.id, motif="travaux")
    db.session.commit()
    result = runner.invoke(args=["import", "specialites", str(EXEMPLES / "specialites.csv")])
    assert result.exit_code == 2
    assert "déjà verrouillée" in result.output
    assert db.session.scalar(select(func.count(Specialite.id))) == 0


def test_unknown_establishment_and_missing_option_exit_2(runner, examens, session_examen):
    result = runner.invoke(args=["import", "eleves", "--etablissement", "9999999Z", str(EXEMPLES / "eleves.csv")])
    assert result.exit_code == 2 and "Établissement inconnu" in result.output
    result = runner.invoke(args=["import", "eleves", str(EXEMPLES / "eleves.csv")])
    assert result.exit_code == 2 and "--etablissement" in result.output
