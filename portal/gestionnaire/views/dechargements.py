"""Manager routes: unloads (déchargements) of registrations and the API tokens."""
from __future__ import annotations

import time
from collections.abc import Iterator

from flask import flash, g, redirect, render_template, request, url_for

from ...access import allow
from ...extensions import db
from ...telechargements import telechargement
from ...models import ApiToken, Echange
from ...services import ServiceError, api_tokens, campagne, exports
from .. import bp
from ..decorators import recent_login_required
from ..forms_dechargements import ApiTokenForm

HEARTBEAT_SECONDS = 60


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
    echange = exports.start_csv_export(lot, gestionnaire=g.gestionnaire)
    echange_id, nom, chunks = echange.id, lot.fichier_nom, exports.iter_csv(lot)
    # Committed before streaming: the rows are then read on a connection of their own and
    # no transaction of this request stays open (on SQLite, no write lock) while a slow
    # client downloads.
    db.session.commit()
    return telechargement(_stream(echange_id, chunks), nom, "text/csv")


def _stream(echange_id: int, chunks) -> Iterator[bytes]:
    """Send the chunks; the exchange succeeds once the last one is handed to the server,
    with the SHA-256 of what was sent, and fails if the stream stops before (client gone:
    GeneratorExit, or a database error)."""
    empreinte = exports.Empreinte()
    last_news = time.monotonic()
    try:
        for chunk, lignes in chunks:
            empreinte.add(chunk, lignes)
            yield chunk
            if time.monotonic() - last_news > HEARTBEAT_SECONDS:
                exports.touch_csv_export(echange_id)
                last_news = time.monotonic()
    except BaseException as exc:
        db.session.rollback()
        reason = ("le téléchargement a été interrompu avant la fin" if isinstance(exc, GeneratorExit)
                  else f"erreur pendant l'envoi ({type(exc).__name__})")
        message = f"Échec : {reason}, après {empreinte.nb_lignes} ligne(s)."
        exports.fail_csv_export(db.session.get(Echange, echange_id), message, lignes=empreinte.nb_lignes)
        db.session.commit()
        raise
    exports.finish_csv_export(db.session.get(Echange, echange_id), empreinte.fichier())
    db.session.commit()


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
