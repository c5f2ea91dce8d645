"""Manager routes: publication of the specialty catalogue."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ...access import allow
from ...extensions import db
from ...models import EXAMENS, STATUTS_PUBLICATION, Examen, Specialite, libelle
from ...services import ServiceError, campagne, catalogue
from .. import bp

PER_PAGE = 50


def _session_or_404():
    session_examen = campagne.current_session()
    if session_examen is None:
        abort(404)
    return session_examen


def _filter(name: str, allowed) -> str | None:
    """An allow-listed filter value ("" means all); anything else is a malformed request."""
    value = request.args.get(name, "")
    if value == "":
        return None
    if value not in allowed:
        abort(400)
    return value


@bp.route("/catalogue")
@allow("gestionnaire")
def list_catalogue():
    session_examen = campagne.current_session()
    examen_code = _filter("examen", EXAMENS)
    statut = _filter("statut", STATUTS_PUBLICATION)
    if session_examen is None:
        return render_template("gestionnaire/catalogue/list_catalogue.html", session_courante=None)
    examens = list(db.session.scalars(select(Examen).order_by(Examen.ordre, Examen.code)))
    examen = next((e for e in examens if e.code == examen_code), None)
    page = db.paginate(catalogue.catalogue_select(session_examen, examen_id=examen.id if examen else None,
                                                  statut=statut),
                       per_page=PER_PAGE, error_out=False)
    statuts = catalogue.statuses_for(session_examen, [s.id for s in page.items])
    filtres = {k: v for k, v in (("examen", examen_code), ("statut", statut)) if v}
    return render_template("gestionnaire/catalogue/list_catalogue.html", session_courante=session_examen,
                           page=page, statuts=statuts, examens=examens, examen_code=examen_code,
                           statut=statut, filtres=filtres)


@bp.route("/catalogue/<int:specialite_id>")
@allow("gestionnaire")
def show_specialite(specialite_id: int):
    session_examen = _session_or_404()
    specialite = db.get_or_404(Specialite, specialite_id)
    row = catalogue.status_of(session_examen, specialite)
    return render_template("gestionnaire/catalogue/show_specialite.html", specialite=specialite, statut=row,
                           automatique=catalogue.automatic_status(specialite),
                           actions=catalogue.allowed_actions(row), libelles_actions=catalogue.ACTIONS,
                           historique=catalogue.history(session_examen, specialite))


@bp.route("/catalogue/<int:specialite_id>/<action>", methods=("POST",))
@allow("gestionnaire")
def change_statut_specialite(specialite_id: int, action: str):
    if action not in catalogue.ACTIONS:
        abort(404)
    session_examen = _session_or_404()
    specialite = db.get_or_404(Specialite, specialite_id)
    try:
        row = catalogue.apply_action(session_examen, specialite, action, auteur=g.gestionnaire.email)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"Statut de « {specialite.libelle} » : {libelle(row.statut, 'statut_publication')}.", "success")
    return redirect(url_for(".show_specialite", specialite_id=specialite.id))
