"""Manager routes: loads (upload, preview, apply, abandon) and the exchange log."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select

from ...access import allow
from ...csvutil import csv_response
from ...extensions import db
from ...models import ETATS_ECHANGE, TYPES_ECHANGE, Echange, Etablissement
from ...services import ServiceError, chargements, echanges, verrou
from ...services.campagne import current_session
from .. import bp
from ..decorators import recent_login_required
from ..forms_chargements import ChargementForm

ERREURS_PAR_PAGE = 50


class ListPagination(Pagination):
    """Pagination of a list already in memory (errors of a report)."""

    def __init__(self, items: list, per_page: int):
        self._all = items
        super().__init__(per_page=per_page, max_per_page=per_page, error_out=False)

    def _query_items(self) -> list:
        return self._all[self._query_offset:self._query_offset + self.per_page]

    def _query_count(self) -> int:
        return len(self._all)


def _add_error(form, exc: ServiceError) -> None:
    (form[exc.field].errors if exc.field and exc.field in form else form.form_errors).append(exc.message)


def _etablissement(code: str | None) -> Etablissement | None:
    if not code:
        return None
    found = db.session.scalar(select(Etablissement).where(Etablissement.code == code))
    if found is None:
        raise ServiceError("Aucun établissement n'a ce code UAI : chargez d'abord les établissements.",
                           "etablissement")
    return found


@bp.route("/chargements", methods=("GET", "POST"))
@allow("gestionnaire")
@recent_login_required
def create_chargement():
    form = ChargementForm()
    if form.validate_on_submit():
        upload = form.fichier.data
        try:
            etab = _etablissement(form.etablissement.data) if form.type.data == "eleves" else None
            meta = chargements.create_preview(
                form.type.data, upload.stream, upload.filename, session_examen=current_session(),
                etablissement=etab, gestionnaire_id=g.gestionnaire.id, acteur=g.gestionnaire.email)
        except ServiceError as exc:
            _add_error(form, exc)
        else:
            db.session.commit()
            return redirect(url_for(".show_chargement", jeton=meta["jeton"]))
    return render_template("gestionnaire/chargements/create_chargement.html", form=form,
                           lock=verrou.current(), running=echanges.running_load())


def _own_preview(jeton: str) -> dict:
    meta = chargements.load_preview(jeton)
    if meta is None or meta.get("gestionnaire_id") != g.gestionnaire.id:
        abort(404)
    return meta


@bp.get("/chargements/<jeton>")
@allow("gestionnaire")
def show_chargement(jeton: str):
    meta = _own_preview(jeton)
    erreurs = ListPagination(meta["apercu"]["erreurs"], ERREURS_PAR_PAGE)
    return render_template("gestionnaire/chargements/show_chargement.html", meta=meta, apercu=meta["apercu"],
                           erreurs=erreurs, lock=verrou.current())


@bp.post("/chargements/<jeton>/appliquer")
@allow("gestionnaire")
@recent_login_required
def apply_chargement(jeton: str):
    meta = _own_preview(jeton)
    if meta["apercu"]["nb_erreurs"]:
        flash("Ce fichier contient des erreurs : corrigez-le et déposez-le à nouveau.", "error")
        return redirect(url_for(".show_chargement", jeton=jeton))
    try:
        echange = chargements.run(meta, acteur=g.gestionnaire.email, gestionnaire_id=g.gestionnaire.id)
    except chargements.ChargementRefuse as exc:
        chargements.discard_preview(jeton)
        flash(exc.message, "error")
        return redirect(url_for(".list_echanges"))
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for(".show_chargement", jeton=jeton))
    except Exception:
        current_app.logger.exception("load %s failed", jeton)
        flash("Le chargement a échoué sur une erreur inattendue : rien n'a été enregistré. L'échange est "
              "marqué en échec dans le journal.", "error")
        return redirect(url_for(".list_echanges"))
    chargements.discard_preview(jeton)
    flash(f"Chargement réussi : {echange.message}", "success")
    return redirect(url_for(".show_echange", echange_id=echange.id))


@bp.post("/chargements/<jeton>/abandonner")
@allow("gestionnaire")
def abandon_chargement(jeton: str):
    _own_preview(jeton)
    chargements.discard_preview(jeton)
    flash("Aperçu abandonné : rien n'a été chargé et le fichier déposé a été supprimé.", "info")
    return redirect(url_for(".create_chargement"))


# --- the exchange log -------------------------------------------------------------------


@bp.get("/echanges")
@allow("gestionnaire")
def list_echanges():
    type_ = request.args.get("type") or None
    etat = request.args.get("etat") or None
    if type_ not in (None, *TYPES_ECHANGE) or etat not in (None, *ETATS_ECHANGE):
        abort(400)
    page = db.paginate(echanges.list_query(type_=type_, etat=etat), per_page=20, max_per_page=20,
                       error_out=False)
    filtres = {key: value for key, value in (("type", type_), ("etat", etat)) if value}
    return render_template("gestionnaire/chargements/list_echanges.html", page=page, type_=type_, etat=etat,
                           filtres=filtres, etat_affiche=echanges.etat_affiche, etats=ETATS_ECHANGE)


@bp.get("/echanges/<int:echange_id>")
@allow("gestionnaire")
def show_echange(echange_id: int):
    echange = db.get_or_404(Echange, echange_id)
    erreurs = ListPagination(echange.rapport or [], ERREURS_PAR_PAGE)
    return render_template("gestionnaire/chargements/show_echange.html", echange=echange, erreurs=erreurs,
                           etat=echanges.etat_affiche(echange), annulable=echange.etat == "succes"
                           and echange.type in echanges.TYPES_CHARGEMENT)


@bp.get("/echanges/<int:echange_id>/rapport.csv")
@allow("gestionnaire")
def download_rapport(echange_id: int):
    echange = db.get_or_404(Echange, echange_id)
    rows = [(e.get("ligne"), e.get("colonne"), e.get("message")) for e in (echange.rapport or [])]
    return csv_response(f"rapport-echange-{echange.id}.csv", ["ligne", "colonne", "message"], rows)


@bp.post("/echanges/<int:echange_id>/annuler")
@allow("gestionnaire")
@recent_login_required
def cancel_echange(echange_id: int):
    echange = db.get_or_404(Echange, echange_id)
    if request.form.get("confirmation") != "oui":
        flash("Cochez la case de confirmation pour annuler ce chargement.", "error")
        return redirect(url_for(".show_echange", echange_id=echange.id))
    try:
        counts = chargements.cancel(echange, acteur=g.gestionnaire.email)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"Chargement annulé : {counts['supprimes']} ligne(s) supprimée(s), {counts['restaures']} "
              "rétablie(s).", "success")
    return redirect(url_for(".show_echange", echange_id=echange_id))
