"""Fixtures shared by the load tests (imported by each test module)."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from portal.extensions import db
from portal.services import verrou

EXEMPLES = Path(__file__).resolve().parents[2] / "docs" / "exemples"
ENTETE_ELEVES = "ine;nom;prenoms;date_naissance;examen;specialite;decision;note\n"


def exemple(name: str) -> bytes:
    return (EXEMPLES / name).read_bytes()


def eleves_csv(*lines: str) -> bytes:
    return (ENTETE_ELEVES + "".join(line + "\n" for line in lines)).encode("utf-8")


@pytest.fixture
def app_overrides(tmp_path):
    return {"CHARGEMENTS_DIR": str(tmp_path / "chargements")}


@pytest.fixture
def gestionnaire(make_gestionnaire):
    return make_gestionnaire(role="admin")


@pytest.fixture
def manager_client(client, gestionnaire):
    """A client logged in as a manager with a fresh login."""
    import time

    with client.session_transaction() as session:
        session["_user_id"] = gestionnaire.get_id()
        session["_fresh"] = True
        session["login_at"] = time.time()
    return client


@pytest.fixture
def locked(app, gestionnaire):
    verrou.acquire(acteur=gestionnaire.email, gestionnaire_id=gestionnaire.id, motif="chargements")
    db.session.commit()


@pytest.fixture
def catalogue(app, examens, session_examen, runner, gestionnaire):
    """The sample catalogue and establishments (loaded through the CLI), then the lock held."""
    for kind in ("specialites", "etablissements"):
        result = runner.invoke(args=["import", kind, str(EXEMPLES / f"{kind}.csv")])
        assert result.exit_code == 0, result.output
    verrou.acquire(acteur=gestionnaire.email, gestionnaire_id=gestionnaire.id, motif="chargements")
    db.session.commit()
    return session_examen


def upload(http, data: bytes, type_: str = "eleves", name: str = "fichier.csv", etablissement: str = ""):
    return http.post("/gestionnaire/chargements", data={
        "type": type_, "etablissement": etablissement, "fichier": (io.BytesIO(data), name)},
        content_type="multipart/form-data")
