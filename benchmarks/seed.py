"""Data the rows measure on: a session, an establishment and its specialty, candidates,
registrations (through the shared primitives for a few hundred, with SQLAlchemy Core for
a hundred thousand) and pupil-base files. Everything is synthetic and deterministic."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, insert, select, update

FIRST_NAMES = ("Camille", "Léa", "Noé", "Inès", "Hugo", "Jade", "Louis", "Maëlys", "Éloïse", "Yanis")
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "N'Diaye",
    "Garçon",
    "Roux",
    "Fontaine",
    "Da Silva",
)


def _letters(n: int, width: int = 5) -> str:
    """A distinct surname suffix made of letters only (names refuse digits)."""
    out = []
    for _ in range(width):
        n, r = divmod(n, 26)
        out.append("abcdefghijklmnopqrstuvwxyz"[r])
    return "".join(reversed(out))


def ine(n: int) -> str:
    """A national pupil id: 10 digits and a letter."""
    return f"{n:010d}{'ABCDEFGHJK'[n % 10]}"


def candidate(n: int) -> dict:
    """Identity and contact values of the n-th synthetic candidate (all distinct)."""
    return {
        "nom_naissance": f"{LAST_NAMES[n % 10]}-{_letters(n).capitalize()}",
        "nom_usage": "",
        "prenom1": FIRST_NAMES[(n // 10) % 10],
        "prenom2": "",
        "prenom3": "",
        "sexe": "FM"[n % 2],
        "date_naissance": date(2008, 1, 1) + timedelta(days=n % 700),
        "commune_naissance": "Lyon",
        "pays_naissance": "France",
        "nationalite": "Française",
        "ine": ine(n),
        "statut": "scolaire",
        "email": f"candidat{n}@exemple.fr",
        "telephone": "0601020304",
        "adresse1": f"{n % 200 + 1} rue des Écoles",
        "adresse2": "",
        "code_postal": "69001",
        "commune": "Lyon",
        "pays": "France",
    }


@dataclass
class World:
    session_id: int
    etablissement_id: int
    specialite_id: int
    examen_id: int


ETAB_CODE = "0690999Z"
ETAB_PASSWORD = "Mesure du service d'inscription 2026"


def create_world(password: str = ETAB_PASSWORD) -> World:
    """A current session whose in-school service is open, a published BCP specialty and an
    establishment preparing it (no pupil base), its registration service open with
    ``password``. On top of demo data, the demo's current session is used and its in-school
    calendar opened. Call inside an app context; commits."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Etablissement, SessionExamen, Specialite, StatutPublication
    from portal.services.passwords import hash_password
    from portal.services.referentiel import ensure_examens

    examens = ensure_examens()
    session_examen = db.session.scalar(select(SessionExamen).where(SessionExamen.courante.is_(True)))
    if session_examen is None:
        session_examen = SessionExamen(
            annee=2027,
            libelle="Session 2027",
            academie="Académie de mesure",
            date_examen=date(2027, 6, 15),
            courante=True,
            texte_confirmation="Conservez cette confirmation.",
        )
        db.session.add(session_examen)
    specialite = Specialite(
        examen=examens["BCP"],
        code="BC900",
        libelle="Métiers de la mesure",
        forme_globale=True,
        forme_progressive=True,
        section_europeenne_possible=True,
    )
    etab = Etablissement(
        code=ETAB_CODE,
        nom="Lycée professionnel de la mesure",
        type="LP",
        commune="Lyon",
        suivi_password_hash=hash_password(password),
        suivi_password_default=False,
        inscription_password_hash=hash_password(password),
        inscription_password_default=False,
        service_ouvert=True,
        section_europeenne=True,
    )
    etab.specialites.append(specialite)
    db.session.add_all([specialite, etab])
    db.session.flush()
    db.session.add(
        StatutPublication(session_id=session_examen.id, specialite_id=specialite.id, statut="publie")
    )
    _open_in_school_service(session_examen.id)
    db.session.commit()
    return World(session_examen.id, etab.id, specialite.id, examens["BCP"].id)


def _open_in_school_service(session_id: int) -> None:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import OuvertureService

    rows = list(
        db.session.scalars(
            select(OuvertureService).where(
                OuvertureService.session_id == session_id, OuvertureService.service == "etablissement"
            )
        )
    )
    if not any(row.examen_id is None for row in rows):
        rows.append(OuvertureService(session_id=session_id, service="etablissement", examen_id=None))
        db.session.add(rows[-1])
    for row in rows:
        row.ouvert, row.debut, row.fin, row.fin_tardive = True, None, None, None


def add_inscriptions(world: World, count: int, start: int = 0) -> list[int]:
    """``count`` registrations through the shared primitives (numbers, versions, audit-free);
    returns their ids."""
    from portal.extensions import db
    from portal.models import Candidat, SessionExamen
    from portal.services import inscriptions

    session_examen = db.session.get(SessionExamen, world.session_id)
    ids = []
    for n in range(start, start + count):
        inscription = inscriptions.insert_inscription(
            session_examen=session_examen,
            candidat=Candidat(**candidate(n)),
            auteur="mesure",
            etablissement_id=world.etablissement_id,
            examen_id=world.examen_id,
            specialite_id=world.specialite_id,
            forme="globale",
            section_europeenne=False,
            source="etablissement",
        )
        ids.append(inscription.id)
    db.session.commit()
    return ids


def bulk_inscriptions(
    session_id: int,
    etablissement_id: int,
    examen_id: int,
    specialite_id: int,
    count: int,
    *,
    batch: int = 10_000,
) -> None:
    """``count`` registrations written with Core executemany (volume for exports), numbers and
    change sequence continuing the session's counters, which are moved past them."""
    from portal.extensions import db
    from portal.models import Candidat, Inscription, SessionExamen, utcnow
    from portal.services.identite import cle_identite

    session_row = db.session.get(SessionExamen, session_id)
    first_numero, first_seq = session_row.dernier_numero + 1, session_row.dernier_changement + 1
    first_candidat = (db.session.scalar(select(func.max(Candidat.id))) or 0) + 1
    now = utcnow()
    for offset in range(0, count, batch):
        size = min(batch, count - offset)
        people = [candidate(1_000_000 + offset + i) for i in range(size)]
        db.session.execute(
            insert(Candidat), [{"id": first_candidat + offset + i, **p} for i, p in enumerate(people)]
        )
        db.session.execute(
            insert(Inscription),
            [
                {
                    "session_id": session_id,
                    "numero": first_numero + offset + i,
                    "version": 0,
                    "candidat_id": first_candidat + offset + i,
                    "etablissement_id": etablissement_id,
                    "examen_id": examen_id,
                    "specialite_id": specialite_id,
                    "forme": "globale",
                    "section_europeenne": False,
                    "statut": "active",
                    "source": "etablissement",
                    "cle_identite": cle_identite(p["nom_naissance"], p["prenom1"], p["date_naissance"]),
                    "condition": "",
                    "hors_base": False,
                    "tardive": False,
                    "session_token": f"t{offset + i}",
                    "seq": first_seq + offset + i,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, p in enumerate(people)
            ],
        )
    db.session.execute(
        update(SessionExamen)
        .where(SessionExamen.id == session_id)
        .values(dernier_numero=first_numero + count - 1, dernier_changement=first_seq + count - 1)
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('candidats', 'id'), " "(SELECT max(id) FROM candidats))"
            )


PUPIL_HEADER = ("ine", "nom", "prenoms", "date_naissance", "examen", "specialite", "decision", "note")


def pupil_rows(count: int, examen_code: str = "BCP", specialite_code: str = "BC900") -> list[tuple]:
    """Lines of a pupil base: INE, name, first names, birth date, exam, specialty, decision."""
    rows = []
    for n in range(count):
        person = candidate(n)
        decision = "FSD"[n % 3] if n % 10 == 0 else "F"
        rows.append(
            (
                person["ine"],
                person["nom_naissance"],
                person["prenom1"],
                person["date_naissance"],
                examen_code,
                specialite_code,
                decision,
                "Sous réserve du diplôme" if decision == "S" else "",
            )
        )
    return rows


def pupil_csv(rows: list[tuple]) -> bytes:
    """The file a manager uploads: ';'-separated UTF-8 with a header line, dates JJ/MM/AAAA."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(PUPIL_HEADER)
    for row in rows:
        writer.writerow([row[0], row[1], row[2], row[3].strftime("%d/%m/%Y"), *row[4:]])
    return out.getvalue().encode("utf-8")
