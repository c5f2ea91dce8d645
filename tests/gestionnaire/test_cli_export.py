"""``flask export inscriptions`` and ``flask recompute-statuses`` for cron."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from portal.extensions import db
from portal.models import Echange
from portal.services import catalogue

from .dechargements_fixtures import parse_csv, specialite  # noqa: F401


def test_cli_incremental_export_writes_each_change_once(runner, tmp_path, session_examen, specialite,
                                                         make_inscription):
    first = make_inscription(session_examen, specialite)
    out = tmp_path / "a.csv"
    result = runner.invoke(args=["export", "inscriptions", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 inscription(s) écrite(s)" in result.output
    assert [r["numero"] for r in parse_csv(out.read_bytes())] == [str(first.numero)]
    echange = db.session.scalars(select(Echange)).one()
    assert echange.fichier_sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert (echange.curseur_debut, echange.curseur_fin, echange.etat) == (0, 1, "succes")

    second = make_inscription(session_examen, specialite)
    assert runner.invoke(args=["export", "inscriptions", "--output", str(tmp_path / "b.csv")]).exit_code == 0
    assert [r["numero"] for r in parse_csv((tmp_path / "b.csv").read_bytes())] == [str(second.numero)]


def test_cli_full_export_does_not_move_the_cursor(runner, tmp_path, session_examen, specialite, make_inscription):
    make_inscription(session_examen, specialite)
    full = tmp_path / "full.csv"
    assert runner.invoke(args=["export", "inscriptions", "--full", "--output", str(full)]).exit_code == 0
    assert len(parse_csv(full.read_bytes())) == 1
    incremental = tmp_path / "inc.csv"
    assert runner.invoke(args=["export", "inscriptions", "--output", str(incremental)]).exit_code == 0
    assert len(parse_csv(incremental.read_bytes())) == 1


def test_cli_export_without_session_fails_with_exit_code_1(runner, examens):
    result = runner.invoke(args=["export", "inscriptions"])
    assert result.exit_code == 1
    assert "Aucune session d'examen" in result.output


def test_cli_export_to_an_unwritable_place_records_a_failure(runner, tmp_path, session_examen, specialite,
                                                              make_inscription):
    make_inscription(session_examen, specialite)
    result = runner.invoke(args=["export", "inscriptions", "--output", str(tmp_path / "absent" / "x.csv")])
    assert result.exit_code == 1
    assert "impossible" in result.output
    assert db.session.scalars(select(Echange.etat)).all() == ["echec"]
    # The failed unload acknowledged nothing: the next one carries the change.
    assert runner.invoke(args=["export", "inscriptions", "--output", str(tmp_path / "ok.csv")]).exit_code == 0
    assert len(parse_csv((tmp_path / "ok.csv").read_bytes())) == 1


def test_cli_recompute_prints_counts_and_changes(runner, session_examen, make_specialite):
    make_specialite("BCP")
    gelee = make_specialite("CAP", validation_rectorat=True)
    catalogue.apply_action(session_examen, gelee, "marquer_pret", auteur="g@ac-test.fr")
    db.session.commit()
    result = runner.invoke(args=["recompute-statuses"])
    assert result.exit_code == 0, result.output
    assert "À publier : 1" in result.output
    assert "Publié : 1" in result.output
    assert f"{gelee.code} : Prêt pour publication -> Publié" in result.output
    assert "2 changement(s)" in result.output


def test_cli_recompute_for_an_unknown_session_fails(runner, session_examen):
    result = runner.invoke(args=["recompute-statuses", "--session", "1999"])
    assert result.exit_code == 1
    assert "1999" in result.output
    assert runner.invoke(args=["recompute-statuses", "--session", "deux-mille"]).exit_code == 2
