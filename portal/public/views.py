"""Individual candidates: register outside any school, come back with number, birth
date and secret to see, modify and print their registration; anybody may check a
confirmation's verification code."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from .. import auth, dossier
from ..access import allow
from ..database import writes_on_get
from ..extensions import db, limiter
from ..etapes import TITRES_ETAPES, as_text
from ..parcours import Enregistrement, Parcours, resumes_after_csrf_error, run_review, run_step, step_context
from ..models import Inscription
from ..services import ServiceError, campagne, candidatures, throttle
from ..services.confirmations import confirmation_pdf
from ..telechargements import telechargement
from . import bp
from .forms import CandidatLoginForm, ConfirmForm, SecretForm, VerificationForm

DRAFT_KEY = "brouillon_public"
MODIFICATION_KEY = "brouillon_modification"


def _creation() -> Parcours:
    ctx = candidatures.Contexte(campagne.current_session(), "public")
    return Parcours(ctx, DRAFT_KEY, adresse_requise=True, quota=throttle.PUBLIC_DRAFTS)


def _modification(inscription: Inscription) -> Parcours:
    return Parcours(candidatures.Contexte(inscription.session, "public"), MODIFICATION_KEY, adresse_requise=True)


def _creation_url(step: str) -> str:
    if step == "recapitulatif":
        return url_for(".review_inscription")
    return url_for(".fill_step", etape=step)


def _candidat_layout() -> dict:
    return {"account_label": f"Inscription n° {g.inscription.numero}", "logout_url": url_for(".logout")}


@bp.before_request
def guard_service():
    """Registering stops, with the reason, while no exam is open to the public."""
    if request.endpoint not in {"public.fill_step", "public.review_inscription"}:
        return None
    session_examen = campagne.current_session()
    if campagne.examens_ouverts(session_examen, "public"):
        return None
    etat = campagne.etat_service(session_examen, "public")
    if etat.ouvert:
        etat = campagne.EtatService(False, raison="L'inscription n'est ouverte pour aucun examen en ce moment.")
    calendrier = candidatures.calendrier(candidatures.Contexte(session_examen, "public"))
    return render_template("public/ferme.html", etat=etat, calendrier=calendrier), 403


@bp.get("/")
@allow("tous")
def index():
    session_examen = campagne.current_session()
    ouvert = bool(campagne.examens_ouverts(session_examen, "public"))
    etat = campagne.etat_service(session_examen, "public")
    calendrier = candidatures.calendrier(candidatures.Contexte(session_examen, "public"))
    return render_template("public/index.html", ouvert=ouvert, etat=etat, calendrier=calendrier,
                           etapes=TITRES_ETAPES)


# --- registration --------------------------------------------------------------------


def _creation_done(saved: Enregistrement):
    """The candidate, logged in, on her registration. Answering again (second click or tab,
    Back, reload, retried request: the request may carry the cookie from before the first
    answer), it logs her in again with the token saved then (none once she logged out)."""
    auth.start_session(candidat={"inscription": saved.inscription_id, "token": saved.session_token})
    if saved.deja:
        flash(f"Votre préinscription est déjà enregistrée sous le numéro {saved.numero_version}.", "info")
    else:
        flash(f"Votre préinscription est enregistrée sous le numéro {saved.numero_version}. "
              "Notez ce numéro : avec votre date de naissance et votre code secret, il vous permet de "
              "revenir sur votre inscription.", "success")
    return redirect(url_for(".show_inscription", inscription_id=saved.inscription_id))


@bp.route("/inscription/<etape>", methods=("GET", "POST"))
@allow("tous")
def fill_step(etape: str):
    return run_step(_creation(), etape, template="public/etape.html", step_url=_creation_url, done=_creation_done,
                    action=_creation_url(etape), mode="creation")


@bp.route("/inscription/recapitulatif", methods=("GET", "POST"))
@allow("tous")
@resumes_after_csrf_error(lambda: (_creation(), _creation_done))
def review_inscription():
    parcours = _creation()
    form = SecretForm()

    def submit(candidat, choix):
        throttle.PUBLIC_INSCRIPTIONS.consume(request.remote_addr or "")
        nouvelle = candidatures.create_inscription(parcours.ctx, candidat, choix, secret=form.secret.data,
                                                   auteur="candidat individuel")
        return Enregistrement(nouvelle.id, nouvelle.numero_version, nouvelle.session_token)

    def render(sections):
        return render_template("public/recapitulatif.html", form=form, sections=sections, step_url=_creation_url,
                               action=url_for(".review_inscription"), mode="creation",
                               **step_context(parcours, "recapitulatif"))

    return run_review(parcours, form, step_url=_creation_url, submit=submit, done=_creation_done, render=render)


# --- coming back ---------------------------------------------------------------------


@bp.route("/connexion", methods=("GET", "POST"))
@allow("tous")
def login():
    form = CandidatLoginForm()
    if not form.validate_on_submit():
        return render_template("public/login.html", form=form)
    try:
        inscription = candidatures.authenticate(campagne.current_session(), form.numero_value,
                                                form.date_naissance.data, form.secret.data,
                                                request.remote_addr or "")
    except throttle.TropDeTentatives as exc:
        form.form_errors.append(exc.message)
        return render_template("public/login.html", form=form), 429
    except ServiceError as exc:
        form.form_errors.append(exc.message)
        return render_template("public/login.html", form=form)
    auth.start_session(candidat={"inscription": inscription.id, "token": inscription.session_token})
    return redirect(url_for(".show_inscription", inscription_id=inscription.id))


def _own(inscription_id: int) -> Inscription:
    """The candidate's own registration; any other id is 404."""
    if inscription_id != g.inscription.id:
        abort(404)
    return g.inscription


def _modifiable(inscription: Inscription) -> campagne.EtatService:
    if inscription.annulee:
        return campagne.EtatService(False, raison="Cette inscription a été annulée : elle ne peut plus être "
                                                  "modifiée.")
    return campagne.etat_service(inscription.session, "public", inscription.examen)


@bp.get("/inscriptions/<int:inscription_id>")
@allow("candidat")
def show_inscription(inscription_id: int):
    inscription = _own(inscription_id)
    return render_template("public/inscription.html", inscription=inscription, etat=_modifiable(inscription),
                           **_candidat_layout())


@bp.get("/inscriptions/<int:inscription_id>/pdf")
@allow("candidat")
@writes_on_get
def download_confirmation(inscription_id: int):
    inscription = _own(inscription_id)
    content = confirmation_pdf(inscription)
    db.session.commit()
    return telechargement(content, f"confirmation-{inscription.numero_version}.pdf", "application/pdf")


@bp.post("/deconnexion")
@allow("candidat")
def logout():
    candidatures.end_candidate_sessions(g.inscription)
    db.session.commit()
    auth.logout()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for(".index"))


# --- modification --------------------------------------------------------------------


def _modification_url(inscription: Inscription):
    def url(step: str) -> str:
        if step == "recapitulatif":
            return url_for(".review_modification", inscription_id=inscription.id)
        return url_for(".modify_step", inscription_id=inscription.id, etape=step)

    return url


def _refuse_modification(inscription: Inscription):
    etat = _modifiable(inscription)
    if etat.ouvert:
        return None
    flash(etat.raison or "La modification n'est plus possible.", "warning")
    return redirect(url_for(".show_inscription", inscription_id=inscription.id))


@bp.post("/inscriptions/<int:inscription_id>/modifier")
@allow("candidat")
def start_modification(inscription_id: int):
    inscription = _own(inscription_id)
    refused = _refuse_modification(inscription)
    if refused:
        return refused
    _modification(inscription).start(_draft_of(inscription))
    db.session.commit()
    return redirect(url_for(".modify_step", inscription_id=inscription.id, etape="identite"))


def _draft_of(inscription: Inscription) -> dict:
    c = inscription.candidat
    identite, contact = ({k: as_text(getattr(c, k)) for k in dossier.de_l_etape(etape)}
                         for etape in ("identite", "contact"))
    return {"identite": identite, "contact": contact, "specialite": {"specialite": str(inscription.specialite_id)},
            "forme": {"forme": inscription.forme, "section_europeenne": ""}}


def _modification_done(saved: Enregistrement):
    if not saved.modifiee:
        flash("Aucune modification : votre inscription reste inchangée.", "info")
    elif saved.deja:
        flash(f"Votre modification est déjà enregistrée : votre inscription porte le numéro "
              f"{saved.numero_version}.", "info")
    else:
        flash(f"Modification enregistrée : votre inscription porte désormais le numéro {saved.numero_version}. "
              "Imprimez la nouvelle confirmation.", "success")
    return redirect(url_for(".show_inscription", inscription_id=saved.inscription_id))


@bp.route("/inscriptions/<int:inscription_id>/modifier/<etape>", methods=("GET", "POST"))
@allow("candidat")
def modify_step(inscription_id: int, etape: str):
    inscription = _own(inscription_id)
    refused = _refuse_modification(inscription)
    if refused:
        return refused
    step_url = _modification_url(inscription)
    return run_step(_modification(inscription), etape, template="public/etape.html", step_url=step_url,
                    done=_modification_done, action=step_url(etape), mode="modification", **_candidat_layout())


@bp.route("/inscriptions/<int:inscription_id>/modifier/recapitulatif", methods=("GET", "POST"))
@allow("candidat")
def review_modification(inscription_id: int):
    inscription = _own(inscription_id)
    refused = _refuse_modification(inscription)
    if refused:
        return refused
    parcours, step_url = _modification(inscription), _modification_url(inscription)

    def submit(candidat, choix):
        changed = candidatures.modify_inscription(inscription, candidat, choix, auteur="candidat individuel")
        return Enregistrement(inscription.id, inscription.numero_version, modifiee=changed)

    form = ConfirmForm()

    def render(sections):
        return render_template("public/recapitulatif.html", form=form, sections=sections, step_url=step_url,
                               action=step_url("recapitulatif"), mode="modification",
                               **step_context(parcours, "recapitulatif"), **_candidat_layout())

    return run_review(parcours, form, step_url=step_url, submit=submit, done=_modification_done, render=render)


# --- verification of a printed confirmation ------------------------------------------


@bp.get("/verifier")
@allow("tous")
@limiter.limit("30 per minute")
def verify():
    form = VerificationForm(request.args)
    result = None
    searched = "code" in request.args
    if searched and form.validate():
        result = candidatures.verify_code(form.code.data)
    return render_template("public/verifier.html", form=form, result=result, searched=searched)
