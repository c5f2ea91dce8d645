"""Pupils registering from a school computer opened with the registration password.

The computer's session holds the establishment (``poste``, with the id of the computer's
row in ``postes_ouverts``) and the draft of the pupil being registered; "Nouvelle
inscription" drops everything of that pupil; "Fermer le poste" ends the computer's session
on the server (services/postes.py).
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy.orm import joinedload

from .. import auth
from ..access import allow
from ..database import writes_on_get
from ..extensions import db
from ..parcours import Enregistrement, Parcours, run_review, run_step, step_context
from ..models import Etablissement, Inscription
from ..services import ServiceError, audit, brouillons, campagne, candidatures, postes, throttle
from ..services.confirmations import confirmation_pdf
from ..telechargements import telechargement
from . import bp
from .forms import ConfirmForm, PosteLoginForm

DRAFT_KEY = "brouillon"
LAST_KEY = "derniere_inscription"
# Pages of the pupil flow, usable only while the service is open.
FLOW_ENDPOINTS = {"inscription.fill_step", "inscription.review_inscription"}


def _parcours() -> Parcours:
    ctx = candidatures.Contexte(campagne.current_session(), "etablissement", g.poste)
    return Parcours(ctx, DRAFT_KEY, adresse_requise=False)


def _layout() -> dict:
    return {"account_label": f"{g.poste.nom} ({g.poste.code})", "logout_url": url_for(".close_poste"),
            "logout_label": "Fermer le poste"}


def _step_url(step: str) -> str:
    if step == "recapitulatif":
        return url_for(".review_inscription")
    return url_for(".fill_step", etape=step)


def _ferme(etat, etab: Etablissement, session_examen, **layout) -> str:
    """Why the school's registration is not possible now, with the exams' calendar."""
    calendrier = candidatures.calendrier(candidatures.Contexte(session_examen, "etablissement", etab))
    return render_template("inscription/ferme.html", etat=etat, etablissement=etab, calendrier=calendrier,
                           **layout)


@bp.before_request
def guard_service():
    """The flow stops when the service closes; a locked database still lets pages be read."""
    if request.endpoint not in FLOW_ENDPOINTS or g.get("poste") is None:
        return None
    session_examen = campagne.current_session()
    etat = candidatures.etat_poste(g.poste, session_examen, verifier_verrou=False)
    if not etat.ouvert:
        return _ferme(etat, g.poste, session_examen, **_layout()), 403
    return None


@bp.route("/", methods=("GET", "POST"))
@allow("tous")
def login():
    if session.get("poste") and request.method == "GET":
        return redirect(url_for(".fill_step", etape="identite"))
    form = PosteLoginForm()
    if not form.validate_on_submit():
        return render_template("inscription/login.html", form=form)
    try:
        etab = postes.authenticate(form.code.data, form.password.data, request.remote_addr or "")
    except throttle.TropDeTentatives as exc:
        form.form_errors.append(exc.message)
        return render_template("inscription/login.html", form=form), 429
    except ServiceError as exc:
        db.session.commit()  # the audited failure
        form.form_errors.append(exc.message)
        return render_template("inscription/login.html", form=form)
    session_examen = campagne.current_session()
    etat = candidatures.etat_poste(etab, session_examen)
    if not etat.ouvert:
        return _ferme(etat, etab, session_examen)
    poste_id = postes.open_poste(etab)
    auth.start_session(poste={"etab": etab.id, "token": etab.inscription_token, "id": poste_id})
    audit.record("poste.ouvert", etab, actor={"type": "poste_inscription", "id": etab.id,
                                              "label": f"poste {etab.code}", "etablissement_code": etab.code})
    db.session.commit()
    return redirect(url_for(".fill_step", etape="identite"))


def _done(saved: Enregistrement):
    """The pupil's confirmation; answering again (second click, Back, reload), it says the
    registration is already saved and how to free the computer for the next pupil."""
    session[LAST_KEY] = saved.inscription_id
    if saved.deja:
        flash(f"Cette préinscription est déjà enregistrée sous le numéro {saved.numero_version}. Pour inscrire "
              "un autre élève, choisissez « Nouvelle inscription ».", "info")
    return redirect(url_for(".show_confirmation"))


@bp.route("/etape/<etape>", methods=("GET", "POST"))
@allow("poste")
def fill_step(etape: str):
    return run_step(_parcours(), etape, template="inscription/etape.html", step_url=_step_url, done=_done,
                    etablissement=g.poste, **_layout())


@bp.route("/recapitulatif", methods=("GET", "POST"))
@allow("poste")
def review_inscription():
    parcours = _parcours()

    def submit(candidat, choix):
        nouvelle = candidatures.create_inscription(parcours.ctx, candidat, choix, auteur=f"poste {g.poste.code}")
        return Enregistrement(nouvelle.id, nouvelle.numero_version)

    form = ConfirmForm()

    def render(sections):
        return render_template("inscription/recapitulatif.html", form=form, sections=sections, step_url=_step_url,
                               **step_context(parcours, "recapitulatif"), **_layout())

    return run_review(parcours, form, step_url=_step_url, submit=submit, done=_done, render=render)


def _last_inscription() -> Inscription:
    inscription = db.session.get(Inscription, session.get(LAST_KEY) or 0,
                                 options=[joinedload(Inscription.examen), joinedload(Inscription.specialite)])
    if inscription is None or inscription.etablissement_id != g.poste.id:
        abort(404)
    return inscription


@bp.get("/confirmation")
@allow("poste")
def show_confirmation():
    if not session.get(LAST_KEY):
        return redirect(url_for(".fill_step", etape="identite"))
    return render_template("inscription/confirmation.html", inscription=_last_inscription(), **_layout())


@bp.get("/confirmation/pdf")
@allow("poste")
@writes_on_get
def download_confirmation():
    inscription = _last_inscription()
    content = confirmation_pdf(inscription)
    db.session.commit()
    return telechargement(content, f"confirmation-{inscription.numero_version}.pdf", "application/pdf")


@bp.post("/nouvelle")
@allow("poste")
def new_inscription():
    """Free the computer for the next pupil: nothing of the previous one stays."""
    poste, login_at = session.get("poste"), session.get("login_at")
    brouillons.discard(session.get(DRAFT_KEY))
    db.session.commit()
    auth.start_session(poste=poste)
    session["login_at"] = login_at or session["login_at"]
    return redirect(url_for(".fill_step", etape="identite"))


@bp.post("/fermer")
@allow("poste")
def close_poste():
    """End this computer's session on the server: a copy of its cookie stops working, the
    school's other computers stay open."""
    data = session.get("poste") or {}
    brouillons.discard(session.get(DRAFT_KEY))
    postes.close_poste(data.get("id"))
    audit.record("poste.ferme", g.poste)
    db.session.commit()
    auth.logout()
    flash("Le poste d'inscription est fermé.", "info")
    return redirect(url_for(".login"))
