"""Every list page and every page of the registration flow runs a small, fixed number of SQL
queries, whatever the number of rows it shows: each page is counted with 5 rows, then with
30 rows, and the two counts must be equal (an N+1 query would add one query per row) and
within the page's bound."""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from portal.extensions import db, limiter
from portal.models import (
    Eleve,
    Etablissement,
    Echange,
    LaissezPasser,
    OuvertureService,
    SessionExamen,
    Specialite,
    StatutPublication,
    utcnow,
)
from portal.services import audit
from tests.conftest import STRONG_PASSWORD
from tests.inscription.conftest import CONTACT, IDENTITE

SIZES = (5, 30)
# Transaction control is not a query (and differs between SQLite and PostgreSQL).
_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


@contextmanager
def counting_queries():
    """The SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany):
        if not _CONTROL.match(statement):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def count(http, path: str, *, method: str = "GET", data: dict | None = None, expected: int = 200) -> int:
    if method == "GET":
        # As visitors see it once the process holds the campaign data (portal/generation.py):
        # growing the rows changed establishments, so the first view reads it again.
        http.open(path, method=method)
    with counting_queries() as statements:
        response = http.open(path, method=method, data=data)
    assert response.status_code == expected, (path, response.get_data(as_text=True)[:500])
    return len(statements)


@pytest.fixture(autouse=True)
def _fresh_limiter(app):
    limiter.reset()
    yield
    limiter.reset()


@dataclass
class Monde:
    """A session whose rows can be grown: specialties, registrations, pupils, establishments,
    audit events, exchanges; ``grow(n)`` brings each kind to ``n`` rows."""

    session: SessionExamen
    etab: Etablissement
    make_specialite: object
    make_etablissement: object
    make_inscription: object
    specialites: list[Specialite] = field(default_factory=list)
    size: int = 0

    def grow(self, n: int) -> None:
        for i in range(self.size, n):
            self._add_row(i)
        db.session.commit()
        self.size = n

    def _add_row(self, i: int) -> None:
        examen = ("BCP", "CAP")[i % 2]
        specialite = self.make_specialite(examen, libelle=f"Spécialité {i}", forme_progressive=(i % 3 == 0))
        db.session.add(StatutPublication(session_id=self.session.id, specialite_id=specialite.id,
                                         statut="publie"))
        self.etab.specialites.append(specialite)
        self.specialites.append(specialite)
        eleve = Eleve(session_id=self.session.id, etablissement_id=self.etab.id, ine=f"{i:09d}0A",
                      nom=f"ELEVE{i}", prenoms="Camille", date_naissance=date(2008, 5, 17),
                      examen_id=specialite.examen_id, specialite_id=specialite.id, decision="DF"[i % 2])
        db.session.add(eleve)
        db.session.flush()
        if i % 2 == 0:
            db.session.add(LaissezPasser(eleve_id=eleve.id, motif="Avis du conseil", granted_by="test"))
        inscription = self.make_inscription(
            self.session, specialite, self.etab, statut="annulee" if i % 4 == 3 else "active",
            section_europeenne=(examen == "BCP"), eleve_id=eleve.id if i % 3 else None,
            candidat={"nom_naissance": f"NOM{i:03d}", "ine": f"{i:09d}0A"})
        audit.record("inscription.creee", inscription, actor={"type": "test", "id": i, "label": f"test {i}"},
                     details={"apres": {"numero": inscription.numero}})
        self.make_etablissement(nom=f"Lycée {i}", specialites=[specialite])
        db.session.add(Echange(session_id=self.session.id, type="eleves", etat="succes",
                               acteur=f"gestionnaire{i}@ac-test.fr", etablissement_id=self.etab.id,
                               fichier_nom=f"base-{i}.csv", nb_lignes=i, finished_at=utcnow()))


@pytest.fixture
def monde(session_examen, make_specialite, make_etablissement, make_inscription, open_service):
    etab = make_etablissement("0130001A", password=STRONG_PASSWORD, inscription_password=STRONG_PASSWORD,
                              nom="Lycée Jean Moulin", service_ouvert=True, section_europeenne=True)
    open_service(session_examen, "etablissement")
    open_service(session_examen, "public")
    return Monde(session_examen, etab, make_specialite, make_etablissement, make_inscription)


def counts_by_size(monde: Monde, measure) -> list[int]:
    counts = []
    for size in SIZES:
        monde.grow(size)
        counts.append(measure())
    return counts


def assert_fixed(counts: list[int], bound: int) -> None:
    assert counts[0] == counts[-1], f"the query count grows with the rows: {dict(zip(SIZES, counts, strict=True))}"
    assert counts[0] <= bound, f"{counts[0]} queries, at most {bound} expected"


# --- the tracking service of an establishment ----------------------------------------

ETABLISSEMENT_PAGES = {
    "/etablissement/": 9,
    "/etablissement/listes": 6,
    "/etablissement/listes/alphabetique": 7,
    "/etablissement/listes/europeenne": 8,
    "/etablissement/listes/specialites": 7,
    "/etablissement/listes/formes": 7,
    "/etablissement/listes/specialite?specialite={specialite}": 8,
    "/etablissement/validation": 6,
    "/etablissement/eleves-non-inscrits": 8,
    "/etablissement/confirmations": 6,
}


@pytest.mark.parametrize("path, bound", ETABLISSEMENT_PAGES.items())
def test_establishment_lists_run_a_fixed_number_of_queries(monde, client, login_etablissement, path, bound):
    assert login_etablissement(monde.etab, STRONG_PASSWORD).status_code == 302

    def measure():
        return count(client, path.format(specialite=monde.specialites[0].id))

    assert_fixed(counts_by_size(monde, measure), bound)


# --- the manager service: follow-up, audit trail, catalogue, exchange log -----------

GESTIONNAIRE_PAGES = {
    # 9 + 2 aggregates of the dashboard that decides (issue 15, point 21): registrations per
    # exam and Paris day of the campaign, and each establishment's registered share of its
    # pupil base (the calendar comes from the registration rules' per-request cache, the
    # specialties grouped by exam replace the flat per-specialty query).
    "/gestionnaire/": 11,
    "/gestionnaire/etablissements": 7,
    "/gestionnaire/etablissements/0130001A": 7,
    "/gestionnaire/laissez-passer": 7,
    "/gestionnaire/journal": 7,
    "/gestionnaire/catalogue": 8,
    "/gestionnaire/echanges": 7,
    "/gestionnaire/calendrier": 7,
}


@pytest.mark.parametrize("path, bound", GESTIONNAIRE_PAGES.items())
def test_manager_lists_run_a_fixed_number_of_queries(monde, client, make_gestionnaire, login_gestionnaire,
                                                      path, bound):
    assert login_gestionnaire(make_gestionnaire()).status_code == 302
    assert_fixed(counts_by_size(monde, lambda: count(client, path)), bound)


# --- the registration flow on a school computer --------------------------------------


def new_pupil(monde: Monde) -> dict:
    """A pupil of the establishment's base, not registered yet: the identity step's answers."""
    k = db.session.query(Eleve).count()
    nom = "Martin" + "".join("abcdefghij"[int(d)] for d in str(k))
    specialite, ine = monde.specialites[1], f"{900000000 + k}0B"
    db.session.add(Eleve(session_id=monde.session.id, etablissement_id=monde.etab.id, ine=ine, nom=nom,
                         prenoms="Camille", date_naissance=date(2008, 5, 17), examen_id=specialite.examen_id,
                         decision="F"))
    db.session.commit()
    return {**IDENTITE, "nom_naissance": nom, "prenom1": "Camille", "prenom2": "", "ine": ine}


def walk_to(client, monde: Monde, step: str) -> None:
    """A new pupil on the opened computer, every answer given up to ``step`` (excluded)."""
    client.post("/inscription/nouvelle")
    answers = [("identite", new_pupil(monde)), ("contact", CONTACT),
               ("specialite", {"specialite": str(monde.specialites[1].id)})]
    for name, data in answers:
        if name == step:
            return
        response = client.post(f"/inscription/etape/{name}", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]


@pytest.fixture
def poste(monde, client, open_poste):
    assert open_poste(monde.etab, STRONG_PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize("step, bound", [("identite", 5), ("contact", 5), ("specialite", 6),
                                          ("recapitulatif", 7)])
def test_registration_step_page_runs_a_fixed_number_of_queries(monde, poste, step, bound):
    """Whatever the number of specialties offered and of registrations already made."""
    path = "/inscription/recapitulatif" if step == "recapitulatif" else f"/inscription/etape/{step}"

    def measure():
        walk_to(poste, monde, step)
        return count(poste, path)

    assert_fixed(counts_by_size(monde, measure), bound)


def test_registration_step_post_runs_a_fixed_number_of_queries(monde, poste):
    def measure():
        walk_to(poste, monde, "specialite")
        return count(poste, "/inscription/etape/specialite", method="POST",
                     data={"specialite": str(monde.specialites[1].id)}, expected=302)

    assert_fixed(counts_by_size(monde, measure), 10)


def test_final_registration_post_runs_a_fixed_number_of_queries(monde, poste):
    """The submission checks every rule again, numbers, inserts, audits: in few queries."""
    def measure():
        walk_to(poste, monde, "recapitulatif")
        return count(poste, "/inscription/recapitulatif", method="POST", expected=302)

    assert_fixed(counts_by_size(monde, measure), 17)


def test_confirmation_page_runs_a_fixed_number_of_queries(monde, poste):
    def measure():
        walk_to(poste, monde, "recapitulatif")
        assert poste.post("/inscription/recapitulatif").status_code == 302
        return count(poste, "/inscription/confirmation")

    assert_fixed(counts_by_size(monde, measure), 4)


def test_public_step_page_runs_a_fixed_number_of_queries(monde, client):
    def measure():
        return count(client, "/public/inscription/identite")

    assert_fixed(counts_by_size(monde, measure), 3)


def test_a_calendar_change_is_seen_by_the_next_request(monde, poste):
    """The calendar is read once per request, never kept from one request to the next."""
    monde.grow(5)
    walk_to(poste, monde, "recapitulatif")
    assert poste.get("/inscription/recapitulatif").status_code == 200
    row = db.session.scalar(select(OuvertureService).where(OuvertureService.service == "etablissement",
                                                           OuvertureService.examen_id.is_(None)))
    row.fin = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert poste.get("/inscription/recapitulatif").status_code == 403


def test_public_candidate_page_runs_a_fixed_number_of_queries(monde, client):
    """A candidate back on their own registration: candidate, exam and specialty come with it."""
    from portal.services.passwords import hash_password

    secret = "Une phrase secrète assez longue 2027"
    inscription = monde.make_inscription(monde.session, monde.make_specialite("CAP"),
                                         secret_hash=hash_password(secret))
    response = client.post("/public/connexion", data={"numero": str(inscription.numero), "secret": secret,
                                                      "date_naissance": "2008-03-01"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    path = f"/public/inscriptions/{inscription.id}"
    assert_fixed(counts_by_size(monde, lambda: count(client, path)), 5)
