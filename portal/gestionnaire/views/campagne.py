"""Manager routes: sessions, calendar of the registration services, late authorisations,
and the database lock."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from wtforms.fields.choices import SelectChoice

from ...access import allow
from ...extensions import db
from ...formatting import from_paris, to_paris
from ...models import SERVICES, AutorisationTardive, Examen, OuvertureService, SessionExamen, utcnow
from ...services import ServiceError, campagne, passes, verrou
from .. import bp
from ..decorators import recent_login_required
from ..forms import AutorisationTardiveForm, OuvertureForm, SessionForm, VerrouForm


def _add_error(form, exc: ServiceError) -> None:
    (form[exc.field].errors if exc.field and exc.field in form else form.form_errors).append(exc.message)


@bp.before_request
def refresh_held_lock():
    """While a manager holds the lock, each of their requests pushes its expiry back."""
    compte = g.get("gestionnaire")
    if compte is None or request.method not in ("GET", "POST"):
        return
    lock = verrou.current()
    if lock is None or lock.gestionnaire_id != compte.id:
        return
    try:
        verrou.refresh(gestionnaire_id=compte.id)
        db.session.commit()
    except OperationalError:  # a busy database: the next request refreshes it
        db.session.rollback()


# --- sessions ------------------------------------------------------------------------


@bp.get("/campagne")
@allow("gestionnaire")
def show_campagne():
    return render_template("gestionnaire/show_campagne.html", sessions=campagne.list_sessions(),
                           lock=verrou.current(), verrou_form=VerrouForm())


@bp.route("/sessions/nouvelle", methods=("GET", "POST"))
@allow("gestionnaire")
def create_session():
    form = SessionForm()
    if form.validate_on_submit():
        try:
            session_examen = campagne.create_session(
                annee=form.annee.data, libelle=form.libelle.data, academie=form.academie.data,
                date_examen=form.date_examen.data, texte_confirmation=form.texte_confirmation.data,
                texte_accueil=form.texte_accueil.data, courante=form.courante.data)
        except ServiceError as exc:
            _add_error(form, exc)
        else:
            db.session.commit()
            flash(f"Session {session_examen.annee} créée : les deux services sont fermés, ouvrez-les depuis "
                  "le calendrier.", "success")
            return redirect(url_for(".show_campagne"))
    return render_template("gestionnaire/edit_session.html", form=form, session_examen=None)


@bp.route("/sessions/<int:session_id>", methods=("GET", "POST"))
@allow("gestionnaire")
def edit_session(session_id: int):
    session_examen = db.get_or_404(SessionExamen, session_id)
    form = SessionForm(obj=session_examen)
    if request.method == "GET":
        form.courante.data = session_examen.courante
    if form.validate_on_submit():
        try:
            campagne.update_session(session_examen, **{f: form[f].data for f in campagne.SESSION_FIELDS})
            if form.courante.data:
                campagne.set_current(session_examen)
        except ServiceError as exc:
            _add_error(form, exc)
        else:
            db.session.commit()
            flash("Session enregistrée.", "success")
            return redirect(url_for(".show_campagne"))
    return render_template("gestionnaire/edit_session.html", form=form, session_examen=session_examen)


@bp.post("/sessions/<int:session_id>/courante")
@allow("gestionnaire")
def set_current_session(session_id: int):
    session_examen = db.get_or_404(SessionExamen, session_id)
    campagne.set_current(session_examen)
    db.session.commit()
    flash(f"La session {session_examen.annee} est désormais la session courante.", "success")
    return redirect(url_for(".show_campagne"))


# --- database lock -------------------------------------------------------------------


@bp.post("/verrou")
@allow("gestionnaire")
@recent_login_required
def lock_database():
    form = VerrouForm()
    if form.validate_on_submit():
        try:
            verrou.acquire(acteur=g.gestionnaire.email, gestionnaire_id=g.gestionnaire.id,
                           motif=form.motif.data or "")
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash("Base verrouillée : les autres services sont en consultation seule.", "success")
    return redirect(url_for(".show_campagne"))


@bp.post("/verrou/lever")
@allow("gestionnaire")
@recent_login_required
def unlock_database():
    if verrou.release(acteur=g.gestionnaire.email):
        db.session.commit()
        flash("Base déverrouillée.", "success")
    else:
        flash("La base n'était pas verrouillée.", "info")
    return redirect(url_for(".show_campagne"))


# --- calendar ------------------------------------------------------------------------


def _current_or_redirect():
    session_examen = campagne.current_session()
    if session_examen is None:
        flash("Créez d'abord la session d'examen courante.", "info")
    return session_examen


@bp.get("/calendrier")
@allow("gestionnaire")
def show_calendrier():
    session_examen = _current_or_redirect()
    if session_examen is None:
        return redirect(url_for(".show_campagne"))
    now = utcnow()
    lignes = [(row, campagne.etat_service(session_examen, row.service, row.examen, now))
              for row in campagne.ouvertures(session_examen)]
    etats = {service: campagne.etat_service(session_examen, service, None, now) for service in SERVICES}
    examens = list(db.session.scalars(select(Examen).order_by(Examen.ordre)))
    return render_template("gestionnaire/show_calendrier.html", session_examen=session_examen, lignes=lignes,
                           etats=etats, examens=examens, services=SERVICES)


def _examen_from_path(code: str) -> Examen | None:
    if code == "global":
        return None
    examen = db.session.scalar(select(Examen).where(Examen.code == code.upper()))
    if examen is None:
        abort(404)
    return examen


def _paris(moment):
    return to_paris(moment).replace(tzinfo=None) if moment else None


def _utc(moment):
    return from_paris(moment) if moment else None


@bp.route("/calendrier/<service>/<examen_code>", methods=("GET", "POST"))
@allow("gestionnaire")
def edit_ouverture(service: str, examen_code: str):
    if service not in SERVICES:
        abort(404)
    examen = _examen_from_path(examen_code)
    session_examen = _current_or_redirect()
    if session_examen is None:
        return redirect(url_for(".show_campagne"))
    row = campagne.find_ouverture(session_examen, service, examen)
    form = OuvertureForm()
    if request.method == "GET" and row is not None:
        form.ouvert.data = row.ouvert
        form.debut.data, form.fin.data, form.fin_tardive.data = _paris(row.debut), _paris(row.fin), \
            _paris(row.fin_tardive)
    if form.validate_on_submit():
        try:
            campagne.save_ouverture(session_examen, service, examen, ouvert=form.ouvert.data,
                                    debut=_utc(form.debut.data), fin=_utc(form.fin.data),
                                    fin_tardive=_utc(form.fin_tardive.data))
        except ServiceError as exc:
            _add_error(form, exc)
        else:
            db.session.commit()
            flash("Calendrier enregistré.", "success")
            return redirect(url_for(".show_calendrier"))
    return render_template("gestionnaire/edit_ouverture.html", form=form, service=service, examen=examen,
                           row=row)


@bp.post("/calendrier/lignes/<int:ouverture_id>/supprimer")
@allow("gestionnaire")
def delete_ouverture(ouverture_id: int):
    row = db.get_or_404(OuvertureService, ouverture_id)
    try:
        campagne.delete_ouverture(row)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("L'examen suit désormais le calendrier global du service.", "success")
    return redirect(url_for(".show_calendrier"))


# --- late authorisations -------------------------------------------------------------


@bp.route("/autorisations-tardives", methods=("GET", "POST"))
@allow("gestionnaire")
def list_autorisations():
    session_examen = _current_or_redirect()
    if session_examen is None:
        return redirect(url_for(".show_campagne"))
    examens = {e.code: e for e in db.session.scalars(select(Examen).order_by(Examen.ordre))}
    form = AutorisationTardiveForm()
    form.examen.choices = [SelectChoice("", "Sélectionner un examen")] + [
        SelectChoice(code, f"{code} – {e.libelle}") for code, e in examens.items()]
    if form.validate_on_submit():
        try:
            passes.grant_autorisation(
                session_examen, service=form.service.data, examen=examens[form.examen.data], nom=form.nom.data,
                prenom=form.prenom.data, date_naissance=form.date_naissance.data,
                etablissement_code=form.etablissement.data or "", motif=form.motif.data or "",
                par=g.gestionnaire.email)
        except ServiceError as exc:
            _add_error(form, exc)
        else:
            db.session.commit()
            flash(f"Autorisation tardive accordée à {form.nom.data} {form.prenom.data}.", "success")
            return redirect(url_for(".list_autorisations"))
    return render_template("gestionnaire/list_autorisations.html", form=form,
                           autorisations=passes.list_autorisations(session_examen))


@bp.post("/autorisations-tardives/<int:autorisation_id>/revoquer")
@allow("gestionnaire")
def revoke_autorisation(autorisation_id: int):
    autorisation = db.get_or_404(AutorisationTardive, autorisation_id)
    try:
        passes.revoke_autorisation(autorisation)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("Autorisation révoquée.", "success")
    return redirect(url_for(".list_autorisations"))
