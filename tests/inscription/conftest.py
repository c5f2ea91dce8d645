"""Fixtures of the registration services: a session with published specialties, an
establishment whose service is open, and helpers walking through the steps."""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import pytest

from portal.extensions import db, limiter
from portal.models import Etablissement, SessionExamen, Specialite, StatutPublication
from tests.conftest import STRONG_PASSWORD

IDENTITE = {
    "nom_naissance": "Lefèvre", "nom_usage": "", "prenom1": "Léa", "prenom2": "Marie", "prenom3": "",
    "sexe": "F", "date_naissance": "2008-05-17", "commune_naissance": "Lyon", "pays_naissance": "France",
    "nationalite": "Française", "ine": "", "statut": "scolaire",
}
CONTACT = {"email": "lea@example.org", "telephone": "06 12 34 56 78", "adresse1": "", "adresse2": "",
           "code_postal": "", "commune": "", "pays": "France"}


@pytest.fixture(autouse=True)
def _fresh_limiter(app):
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def publish(app):
    def make(session_examen: SessionExamen, *specialites: Specialite, statut: str = "publie") -> None:
        for specialite in specialites:
            db.session.add(StatutPublication(session_id=session_examen.id, specialite_id=specialite.id, statut=statut))
        db.session.commit()

    return make


@dataclass
class Ecole:
    session: SessionExamen
    etab: Etablissement
    specialites: dict[str, Specialite] = field(default_factory=dict)


@pytest.fixture
def ecole(session_examen, make_specialite, make_etablissement, publish, open_service):
    """An LP preparing a CAP and a BCP (two forms, European section possible), both published,
    its service open with a changed registration password, the in-school calendar open."""
    cap = make_specialite("CAP", libelle="Cuisine")
    bcp = make_specialite("BCP", libelle="Commerce", forme_progressive=True)
    publish(session_examen, cap, bcp)
    etab = make_etablissement(inscription_password=STRONG_PASSWORD, specialites=[cap, bcp],
                              service_ouvert=True, section_europeenne=True)
    open_service(session_examen, "etablissement")
    return Ecole(session_examen, etab, {"CAP": cap, "BCP": bcp})


@pytest.fixture
def poste(client, ecole, open_poste):
    response = open_poste(ecole.etab, STRONG_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return ecole


@pytest.fixture
def register(client):
    """Walk the in-school flow; returns the response of the final confirmation, or of the
    first step that refused the answers."""

    def walk(specialite: Specialite, *, identite=None, contact=None, forme=None, europe=None, http=client):
        steps = [("identite", {**IDENTITE, **(identite or {})}), ("contact", {**CONTACT, **(contact or {})}),
                 ("specialite", {"specialite": str(specialite.id)})]
        for step, data in steps:
            response = http.post(f"/inscription/etape/{step}", data=data)
            if response.status_code != 302:
                return response
        if response.headers["Location"].endswith("/etape/forme"):
            data = {k: v for k, v in (("forme", forme), ("section_europeenne", europe)) if v is not None}
            response = http.post("/inscription/etape/forme", data=data)
            if response.status_code != 302:
                return response
        return http.post("/inscription/recapitulatif")

    return walk


def text(response) -> str:
    """The page as a reader sees it (entities such as &#39; unescaped)."""
    return html.unescape(response.get_data(as_text=True))
