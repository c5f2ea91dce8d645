"""Manager routes: unloads (déchargements) of registrations and the API tokens."""
from __future__ import annotations

import tempfile

from flask import flash, g, redirect, render_template, request, send_file, url_for

from ...access import allow
from ...extensions import db
from ...models import ApiToken
from ...services import ServiceError, api_tokens, campagne, exports
from .. import bp
from ..decorators import recent_login_required
from ..forms_dechargements import ApiTokenForm


def _current_session_or_redirect():
    session_examen = campagne.current_session()
    if session_examen is None:
        flash("Aucune session d'examen n'est en cours : créez-la d'abord.", "warning")
    return session_examen


@bp.route("/dechargements")
@allow("gestionnaire")
def list_dechargements():
    session_examen = campagne.current_session()
    context = {}
    if session_examen is not None:
        lot = exports.plan_export(session_examen)
        context = {"lot": lot, "en_attente": exports.count_changes(lot),
                   "echanges": exports.list_exports(session_examen)}
    return render_template("gestionnaire/dechargements/list_dechargements.html",
                           session_courante=session_examen, **context)


def _download(complet: bool):
    session_examen = _current_session_or_redirect()
    if session_examen is None:
        return redirect(url_for(".list_dechargements"))
    lot = exports.plan_export(session_examen, complet=complet)
    # Written to a temporary file first: memory stays flat, the SHA-256 recorded in the
    # exchange is the one of the bytes sent, and nothing is acknowledged if writing fails.
    fichier_tmp = tempfile.TemporaryFile()
    try:
        fichier = exports.write_csv(lot, fichier_tmp)
    except Exception:
        fichier_tmp.close()
        raise
    exports.record_csv_export(lot, fichier, gestionnaire=g.gestionnaire)
    db.session.commit()
    fichier_tmp.seek(0)
    response = send_file(fichier_tmp, mimetype="text/csv", as_attachment=True, download_name=lot.fichier_nom,
                         max_age=0, conditional=False, etag=False)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/dechargements/incremental", methods=("POST",))
@allow("gestionnaire")
def export_incremental():
    return _download(complet=False)


@bp.route("/dechargements/complet", methods=("POST",))
@allow("gestionnaire")
def export_complet():
    return _download(complet=True)


def _render_tokens(form: ApiTokenForm, nouveau: dict | None = None):
    return render_template("gestionnaire/dechargements/list_api_tokens.html", form=form, nouveau=nouveau,
                           jetons=api_tokens.list_tokens())


@bp.route("/jetons-api")
@allow("admin")
def list_api_tokens():
    return _render_tokens(ApiTokenForm())


@bp.route("/jetons-api", methods=("POST",))
@allow("admin")
@recent_login_required
def create_api_token():
    form = ApiTokenForm()
    if not form.validate_on_submit():
        return _render_tokens(form)
    try:
        token, clair = api_tokens.create_token(form.nom.data, auteur=g.gestionnaire)
    except ServiceError as exc:
        (form[exc.field].errors if exc.field else form.form_errors).append(exc.message)
        return _render_tokens(form)
    db.session.commit()
    # The clear token is shown once, in this response only: never flashed (the session
    # is a cookie), never stored; hence no redirect here.
    return _render_tokens(ApiTokenForm(formdata=None), {"token": token, "clair": clair})


@bp.route("/jetons-api/<int:token_id>/revoquer", methods=("POST",))
@allow("admin")
@recent_login_required
def revoke_api_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if request.form.get("confirmation") != "oui":
        flash("Cochez la case de confirmation pour révoquer ce jeton.", "error")
        return redirect(url_for(".list_api_tokens"))
    if api_tokens.revoke_token(token):
        db.session.commit()
        flash(f"Le jeton « {token.nom} » ({token.prefixe}…) est révoqué : il ne donne plus accès à l'API.",
              "success")
    else:
        flash("Ce jeton était déjà révoqué.", "info")
    return redirect(url_for(".list_api_tokens"))
