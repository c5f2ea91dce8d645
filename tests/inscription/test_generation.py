"""Campaign data kept between requests by each process (portal/generation.py): read-only
pages reuse the session, calendar, establishment and lock they read before, and a change
committed by any instance is seen on the very next page."""
from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import create_engine, event, select, text

from portal.extensions import db
from portal.models import GenerationDonnees
from tests.inscription.conftest import CONTACT, IDENTITE
from tests.test_query_counts import counting_queries

STEP = "/inscription/etape/identite"


@pytest.fixture
def other_instance(app):
    """A second application instance's connection to the same database."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def run(sql: str, **params) -> None:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
        # The tests' application context outlives a request, and its database session with
        # it: end its read transaction, as the end of a request does in production.
        db.session.rollback()

    yield run
    engine.dispose()


def _counter() -> int:
    db.session.rollback()
    return db.session.scalar(select(GenerationDonnees.valeur).where(GenerationDonnees.id == 1))


def _tables_read(client) -> set[str]:
    """Campaign tables the page read. On PostgreSQL a connection taken from the pool is
    checked by reading the counter (``database.ping_reads``), a statement the cursor events
    do not see: each checkout counts as a read of the counter."""
    checkouts = []

    def checked(*_args):
        checkouts.append(db.engine.dialect.name == "postgresql")

    event.listen(db.engine, "checkout", checked)
    try:
        with counting_queries() as statements:
            assert client.get(STEP).status_code == 200
    finally:
        event.remove(db.engine, "checkout", checked)
    read = {table for table in ("generation_donnees", "etablissements", "sessions_examen", "ouvertures_service",
                                "verrous") if any(re.search(rf"\b(FROM|JOIN) {table}\b", s) for s in statements)}
    return read | ({"generation_donnees"} if any(checkouts) else set())


def test_a_page_reads_the_kept_data_again_only_after_a_change(client, poste, other_instance):
    client.get(STEP)
    assert _tables_read(client) == {"generation_donnees"}
    other_instance("UPDATE sessions_examen SET libelle = :libelle", libelle="Session renommée")
    assert _tables_read(client) == {"generation_donnees", "etablissements", "sessions_examen",
                                    "ouvertures_service", "verrous"}
    assert _tables_read(client) == {"generation_donnees"}


def test_a_service_closed_by_another_instance_closes_the_next_page(client, poste, other_instance):
    assert client.get(STEP).status_code == 200
    assert client.get(STEP).status_code == 200
    other_instance("UPDATE ouvertures_service SET ouvert = :ouvert WHERE service = 'etablissement'", ouvert=False)
    response = client.get(STEP)
    assert response.status_code == 403
    assert "fermé par le rectorat" in response.get_data(as_text=True)


def test_a_registration_posted_after_another_instance_closed_the_service_is_refused(
        client, poste, register, other_instance):
    assert client.get(STEP).status_code == 200
    other_instance("UPDATE ouvertures_service SET ouvert = :ouvert WHERE service = 'etablissement'", ouvert=False)
    response = register(poste.specialites["CAP"])
    assert response.status_code == 403
    assert "fermé par le rectorat" in response.get_data(as_text=True)


def test_a_password_reset_by_another_instance_closes_the_school_computer(client, poste, other_instance):
    assert client.get(STEP).status_code == 200
    other_instance("UPDATE etablissements SET inscription_token = :token WHERE id = :id",
                   token="remplace", id=poste.etab.id)
    response = client.get(STEP)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/inscription/")


def test_a_computer_closed_through_another_instance_is_closed_on_the_next_page(client, poste, other_instance):
    assert client.get(STEP).status_code == 200
    assert client.get(STEP).status_code == 200  # the open computers now kept by this process
    other_instance("DELETE FROM postes_ouverts WHERE etablissement_id = :id", id=poste.etab.id)
    response = client.get(STEP)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/inscription/")


def test_a_lock_taken_by_another_instance_shows_on_the_next_page(client, poste, other_instance):
    assert "maintenance" not in client.get(STEP).get_data(as_text=True).lower()
    other_instance("INSERT INTO verrous (nom, actif, acteur, motif) VALUES ('base', :actif, 'gestionnaire', "
                   "'chargement')", actif=True)
    client.get(STEP)
    with counting_queries() as statements:
        client.get(STEP)
    assert not any("FROM verrous" in s for s in statements)
    other_instance("UPDATE verrous SET actif = :actif", actif=False)
    with counting_queries() as statements:
        client.get(STEP)
    assert any("FROM verrous" in s for s in statements)


def test_a_specialty_unpublished_by_another_instance_leaves_the_next_page(client, poste, other_instance):
    assert client.post("/inscription/etape/identite", data=IDENTITE).status_code == 302
    assert client.post("/inscription/etape/contact", data=CONTACT).status_code == 302
    assert "Cuisine" in client.get("/inscription/etape/specialite").get_data(as_text=True)
    other_instance("UPDATE statuts_publication SET statut = 'non_integrable' WHERE specialite_id = :id",
                   id=poste.specialites["CAP"].id)
    page = client.get("/inscription/etape/specialite").get_data(as_text=True)
    assert "Cuisine" not in page and "Commerce" in page


def test_registrations_leave_the_counter_alone(client, poste, register):
    before = _counter()
    response = register(poste.specialites["CAP"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/confirmation")
    assert _counter() == before


def test_a_manager_change_through_the_portal_moves_the_counter(app, poste):
    from portal.models import Etablissement

    before = _counter()
    etab = db.session.get(Etablissement, poste.etab.id)
    etab.nom = "Lycée renommé"
    db.session.commit()
    assert _counter() == before + 1


@pytest.fixture
def app_overrides(tmp_path):
    return {"CHARGEMENTS_DIR": str(tmp_path / "chargements")}


def _load_pupils(poste, gestionnaire) -> None:
    """The establishment's pupil base loaded (the service the upload page runs), the lock
    being held."""
    from portal.services import chargements

    cap = poste.specialites["CAP"]
    fichier = ("ine;nom;prenoms;date_naissance;examen;specialite;decision;note\n"
               f"123456789AA;LEFEVRE;Lea;17/05/2008;CAP;{cap.code};F;\n").encode()
    meta = chargements.create_preview("eleves", io.BytesIO(fichier), "eleves.csv", session_examen=poste.session,
                                      etablissement=poste.etab, gestionnaire_id=gestionnaire.id,
                                      acteur=gestionnaire.email)
    assert not meta["apercu"]["nb_erreurs"], meta["apercu"]
    chargements.run(meta, acteur=gestionnaire.email, gestionnaire_id=gestionnaire.id)
    db.session.commit()


def test_a_pupil_base_loaded_after_a_page_was_shown_requires_the_ine_on_the_next_one(
        app, client, poste, make_gestionnaire):
    """Pupils are not watched by triggers: the transaction that writes them raises the
    counter itself. (The lock a load needs, and the refresh of the lock when the load
    starts, change the counter too, in earlier transactions: a page shown meanwhile would
    keep "no pupil base" under that counter.)"""
    from portal.services import verrou

    gestionnaire = make_gestionnaire(role="admin")
    verrou.acquire(acteur=gestionnaire.email, gestionnaire_id=gestionnaire.id, motif="chargements")
    db.session.commit()
    sans_ine = {**IDENTITE, "ine": ""}
    assert client.get(STEP).status_code == 200
    assert client.post(STEP, data=sans_ine).status_code == 302  # no pupil base: the INE is optional

    committed = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    seen_while_writing = []

    def pupils_written(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO ELEVES"):
            with committed.connect() as other:  # what the other requests see meanwhile
                seen_while_writing.append(other.execute(
                    select(GenerationDonnees.valeur).where(GenerationDonnees.id == 1)).scalar_one())

    event.listen(db.engine, "after_cursor_execute", pupils_written)
    try:
        _load_pupils(poste, gestionnaire)
    finally:
        event.remove(db.engine, "after_cursor_execute", pupils_written)
        committed.dispose()
    assert len(seen_while_writing) == 1 and _counter() > seen_while_writing[0]
    page = client.post(STEP, data=sans_ine)
    assert page.status_code == 200
    assert "Saisissez votre INE" in html.unescape(page.get_data(as_text=True))


def test_every_table_a_kept_value_is_read_from_is_watched(app, client, poste, register, monkeypatch):
    """A value kept between requests goes stale if its table is not watched (or, for the
    pupils, raised by the services that write them): a query added to a kept value must
    come with its table in ``generation.WATCHED``."""
    from portal import generation

    tables = set(db.metadata.tables)
    loading: list = []
    read: set[str] = set()
    kept = generation._kept

    def recording(key, load):
        def traced():
            loading.append(key)
            try:
                return load()
            finally:
                loading.pop()
        return kept(key, traced)

    def statement(_conn, _cursor, sql, *_args):
        if loading:
            read.update(t for t in tables if re.search(rf"\b{t}\b", sql))

    monkeypatch.setattr(generation, "_kept", recording)
    event.listen(db.engine, "before_cursor_execute", statement)
    try:
        assert client.get(STEP).status_code == 200
        response = register(poste.specialites["CAP"])
        assert response.status_code == 302
        public = app.test_client()
        assert public.get("/public/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
    assert "specialites" in read  # the values were read while recording
    assert read - {"generation_donnees"} <= set(generation.WATCHED) | {"eleves"}
