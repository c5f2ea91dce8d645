"""``flask demo-data``: the demonstration académie, its guards and its printed logins."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.demo import VITRINE_LP
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Eleve,
    Etablissement,
    Examen,
    GenerationDonnees,
    Gestionnaire,
    HistoriqueStatut,
    Inscription,
    LaissezPasser,
    OuvertureService,
    SessionExamen,
    Specialite,
    StatutPublication,
)

UAI = re.compile(r"^\d{7}[A-Z]$")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def run_demo(runner, *args):
    result = runner.invoke(args=["demo-data", *args])
    db.session.expire_all()
    return result


def printed_logins(output: str) -> dict[str, list[tuple[str, str]]]:
    """(identifier, password) pairs of each service, read back from the printed block."""
    services = {}
    for block in output.split("\n\n"):
        lines = block.strip().splitlines()
        if lines and lines[0].startswith("Service "):
            name = lines[0].split(" ")[1]
            services[name] = re.findall(
                r"(?:identifiant|code) (\S+), mot de passe(?: du service d'inscription)? (\S+)", block)
    return services


@pytest.mark.slow
def test_demo_data_fills_an_empty_database_and_prints_working_logins(app, runner):
    result = run_demo(runner)

    assert result.exit_code == 0, result.output
    etablissements = db.session.scalars(select(Etablissement)).all()
    assert len(etablissements) >= 30
    assert {"LP", "LPO", "LGT", "CFA", "GRETA"} <= {e.type for e in etablissements}
    assert all(UAI.match(e.code) for e in etablissements)
    assert len({e.code for e in etablissements}) == len(etablissements)
    assert any(not e.prepare_bcp for e in etablissements)
    assert any(e.type == "LPO" and {"BCP", "BTS"} <= {s.examen.code for s in e.specialites}
               for e in etablissements)
    assert count(Examen) == 7
    assert count(Specialite) >= 60
    assert {s.examen.code for s in db.session.scalars(select(Specialite))} == {
        "BTS", "BCP", "BP", "CAP", "BEP", "MC4", "MC5"}
    assert count(Specialite, Specialite.forme_progressive.is_(True)) > 0
    assert count(Specialite, Specialite.section_europeenne_possible.is_(True)) > 0

    session_examen = db.session.scalar(select(SessionExamen).where(SessionExamen.courante.is_(True)))
    assert session_examen.annee == 2027 and session_examen.date_examen.month == 6
    assert count(StatutPublication) == count(Specialite)
    assert count(StatutPublication, StatutPublication.statut == "publie") > count(Specialite) * 3 // 4
    assert count(StatutPublication, StatutPublication.statut == "non_publie") >= 1
    assert count(HistoriqueStatut, HistoriqueStatut.nouveau == "non_publie") >= 1
    globales = OuvertureService.examen_id.is_(None)
    assert count(OuvertureService, globales, OuvertureService.ouvert.is_(True)) == 2
    fermes_au_public = (OuvertureService.service == "public", OuvertureService.ouvert.is_(False))
    assert count(OuvertureService, *fermes_au_public) == 1

    assert count(Inscription) >= 2000
    assert count(Inscription, Inscription.statut == "annulee") > 0
    assert count(Inscription, Inscription.section_europeenne.is_(True), Inscription.statut == "active") > 0
    assert count(Inscription, Inscription.forme == "progressive") > 0
    assert count(Inscription, Inscription.source == "public") >= 100
    assert count(Inscription, Inscription.version == 2) > 0
    # Numbers are gapless and every registration is in a published specialty it may be offered.
    assert db.session.scalar(select(func.max(Inscription.numero))) == count(Inscription)
    assert not count(Inscription, Inscription.specialite_id.in_(
        select(StatutPublication.specialite_id).where(StatutPublication.statut != "publie")))
    assert {d for d in db.session.scalars(select(Eleve.decision).distinct())} == {"F", "S", "D"}
    assert count(LaissezPasser) == 1
    assert count(Gestionnaire, Gestionnaire.role == "admin") == 1
    assert count(Gestionnaire, Gestionnaire.role == "gestionnaire") == 1
    assert count(Etablissement, Etablissement.suivi_password_default.is_(True)) >= 1
    assert count(Etablissement, Etablissement.suivi_password_default.is_(False),
                 Etablissement.service_ouvert.is_(False)) >= 1
    assert_printed_logins_open_every_service(app, result.output)


def assert_printed_logins_open_every_service(app, output: str) -> None:
    """Each login in its own application context, as each real request has (``g`` is not shared)."""
    logins = printed_logins(output)
    assert "http://127.0.0.1:5000" in output
    db.session.rollback()  # end the test's own transaction: SQLite has a single writer

    def post(url: str, **data):
        with app.app_context():
            return app.test_client().post(url, data=data)

    for email, password in logins["gestionnaire"]:
        response = post("/gestionnaire/connexion", email=email, password=password)
        assert response.status_code == 302 and "mot-de-passe" not in response.location

    lycee, cfa, defaut = logins["établissement"]
    for code, password in (lycee, cfa):
        with app.app_context():
            client = app.test_client()
            response = client.post("/etablissement/connexion", data={"code": code, "password": password})
            assert response.status_code == 302 and "mot-de-passe" not in response.location
            assert client.get(response.location).status_code == 200
    assert defaut[0] == defaut[1]  # the default password is the code
    response = post("/etablissement/connexion", code=defaut[0], password=defaut[1])
    assert response.status_code == 302 and response.location.endswith("/etablissement/mot-de-passe")

    assert len(logins["inscription"]) == 2
    for code, password in logins["inscription"]:
        response = post("/inscription/", code=code, password=password)
        assert response.status_code == 302 and "/inscription/etape/" in response.location

    numero, naissance, secret = re.search(r"numéro (\d+), date de naissance (\S+), secret (\S+)",
                                          output).groups()
    response = post("/public/connexion", numero=numero, date_naissance=naissance, secret=secret)
    assert response.status_code == 302 and "/public/" in response.location


def test_demo_data_refuses_a_database_that_already_holds_data(runner, make_etablissement):
    existing = make_etablissement()

    result = run_demo(runner)

    assert result.exit_code == 1
    assert "--reset" in result.output
    assert count(Etablissement) == 1 and db.session.get(Etablissement, existing.id) is not None
    assert count(Specialite) == 0 and count(SessionExamen) == 0


def test_if_empty_leaves_a_filled_database_alone(runner, make_etablissement):
    make_etablissement()
    events = count(AuditEvent)

    result = run_demo(runner, "--if-empty")

    assert result.exit_code == 0
    assert "base déjà remplie" in result.output
    assert count(Etablissement) == 1 and count(Inscription) == 0 and count(AuditEvent) == events


def test_printed_links_use_the_address_the_portal_is_served_on(runner, make_etablissement):
    """``make run PORT=8080`` prints links to port 8080, not to the default 5000."""
    make_etablissement(VITRINE_LP.code)

    result = run_demo(runner, "--if-empty", "--adresse", "http://127.0.0.1:8080/")

    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8080/gestionnaire/connexion" in result.output
    assert "http://127.0.0.1:8080/inscription/" in result.output
    assert ":5000" not in result.output


@pytest.mark.slow
def test_reset_replaces_existing_data_with_the_demonstration(runner, make_etablissement, make_gestionnaire,
                                                             make_inscription, make_session, make_specialite):
    session_examen = make_session(annee=2031, libelle="Ancienne session")
    old_etab = make_etablissement("0699999Z")
    make_inscription(session_examen, make_specialite("CAP"), old_etab)
    make_gestionnaire(email="ancien@ac-test.fr")

    result = run_demo(runner, "--reset", "--seed", "7")

    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Etablissement).where(Etablissement.code == "0699999Z")) is None
    assert db.session.scalar(select(Gestionnaire).where(Gestionnaire.email == "ancien@ac-test.fr")) is None
    assert db.session.scalar(select(SessionExamen.annee)) == 2027
    assert count(Etablissement) >= 30 and count(Inscription) >= 2000
    assert "Service établissement" in result.output
    # The generation counter's row stays (pages keep campaign data only while it exists),
    # raised by the reload.
    assert db.session.scalar(select(GenerationDonnees.valeur).where(GenerationDonnees.id == 1)) > 0


@pytest.mark.parametrize("args", [(), ("--reset",), ("--if-empty",)])
def test_demo_data_refuses_to_run_in_production(app, runner, args):
    """Issue 15 point 10: the published demo logins never reach a production database."""
    app.config["ENV_NAME"] = "production"

    result = run_demo(runner, *args)

    assert result.exit_code == 1
    assert "refuse de s'exécuter en production" in result.output
    assert count(Gestionnaire) == 0 and count(Etablissement) == 0 and count(AuditEvent) == 0


def test_demo_data_reset_leaves_a_production_database_untouched(app, runner, make_etablissement):
    existing = make_etablissement()
    app.config["ENV_NAME"] = "production"

    result = run_demo(runner, "--reset")

    assert result.exit_code == 1
    assert db.session.get(Etablissement, existing.id) is not None and count(Etablissement) == 1
