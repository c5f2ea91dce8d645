"""What the journeys need to know about the demo data, read through the application's own
models and services (the journeys themselves only use the browser)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select

from portal.extensions import db
from portal.models import Eleve, Etablissement, Specialite
from portal.services import campagne, candidatures, etablissements


def option_label(specialite: Specialite) -> str:
    """How a specialty reads in the registration forms' list."""
    return f"{specialite.examen.code} – {specialite.code} – {specialite.libelle}"


@dataclass(frozen=True)
class Ecole:
    code: str
    nom: str
    europeenne: str  # option of a BCP specialty with a European section and the progressive form
    progressive: str  # option of a specialty with the progressive form (may be the same)


def ecole_ouverte(app) -> Ecole:
    """An establishment whose computers are open to pupils, answering yes to the European
    question, without a pupil base (any pupil may register), preparing a BCP specialty with a
    European section and a specialty in progressive form."""
    with app.app_context():
        session_examen = campagne.current_session()
        candidates = db.session.scalars(
            select(Etablissement)
            .where(Etablissement.service_ouvert.is_(True), Etablissement.section_europeenne.is_(True),
                   Etablissement.suivi_password_default.is_(False),
                   Etablissement.inscription_password_default.is_(False),
                   ~exists().where(Eleve.etablissement_id == Etablissement.id))
            .order_by(Etablissement.code))
        for etab in candidates:
            ctx = candidatures.Contexte(session_examen, "etablissement", etab)
            if not candidatures.etat_poste(etab, session_examen).ouvert:
                continue
            offertes = candidatures.specialites_offertes(ctx)
            europe = [s for s in offertes if s.examen.code == "BCP" and s.section_europeenne_possible
                      and s.forme_progressive]
            if europe:
                return Ecole(etab.code, etab.nom, option_label(europe[0]), option_label(europe[-1]))
    raise LookupError("les données de démonstration n'ont plus d'établissement ouvert avec section européenne")


@dataclass(frozen=True)
class Compte:
    code: str
    nom: str


def etablissement_remis_par_defaut(app, exclude: str) -> Compte:
    """An establishment preparing the BCP put back on default passwords (both equal to its
    code), with its service closed and the European question not answered, as a manager's
    reset leaves it: the demo data keeps only one such establishment for the tour."""
    with app.app_context():
        for etab in db.session.scalars(select(Etablissement).where(Etablissement.code != exclude)
                                       .order_by(Etablissement.code)):
            if etab.prepare_bcp and etab.section_europeenne is None:
                etablissements.reset_passwords(etab)
                etab.service_ouvert = False
                db.session.commit()
                return Compte(etab.code, etab.nom)
    raise LookupError("aucun établissement préparant le baccalauréat professionnel sans réponse européenne")
