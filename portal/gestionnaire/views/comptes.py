"""Manager routes: login, password, re-authentication, and the administration of accounts."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from ... import auth
from ...access import allow
from ...extensions import db
from ...models import Gestionnaire
from ...services import ServiceError, gestionnaires, throttle
from .. import bp
from ..decorators import recent_login_required
from ..forms import ChangePasswordForm, GestionnaireForm, LoginForm, ReauthForm, ResetPasswordForm


def _add_error(form, exc: ServiceError) -> None:
    (form[exc.field].errors if exc.field and exc.field in form else form.form_errors).append(exc.message)


@bp.route("/connexion", methods=("GET", "POST"))
@allow("tous")
def login():
    if g.get("gestionnaire") is not None:
        return redirect(url_for(".index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            compte = gestionnaires.authenticate(form.email.data, form.password.data, ip=request.remote_addr or "")
        except throttle.TropDeTentatives as exc:
            form.form_errors.append(exc.message)
            status = 429
        except ServiceError as exc:
            form.form_errors.append(exc.message)
        else:
            target = auth.pop_next(url_for(".index"))
            auth.login(compte)
            db.session.commit()
            return redirect(target)
        db.session.commit()  # the audit event of the refusal
    return render_template("gestionnaire/login.html", form=form), status


@bp.post("/deconnexion")
@allow("gestionnaire", "gestionnaire_mdp_initial")
def logout():
    gestionnaires.logout(g.gestionnaire)
    db.session.commit()
    auth.logout()
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for(".login"))


@bp.route("/mot-de-passe", methods=("GET", "POST"))
@allow("gestionnaire", "gestionnaire_mdp_initial")
def change_password():
    compte = g.gestionnaire
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            gestionnaires.change_password(compte, current=form.current_password.data, new=form.new_password.data)
        except ServiceError as exc:
            _add_error(form, exc)
            db.session.commit()  # the audit event of a wrong current password
        else:
            db.session.commit()
            auth.login(compte)  # this browser keeps going with the new token
            flash("Votre mot de passe a été changé.", "success")
            return redirect(url_for(".index"))
    return render_template("gestionnaire/change_password.html", form=form, initial=compte.must_change_password)


@bp.route("/reauthentification", methods=("GET", "POST"))
@allow("gestionnaire")
def reauthenticate():
    compte = g.gestionnaire
    form = ReauthForm()
    status = 200
    if form.validate_on_submit():
        try:
            gestionnaires.confirm_password(compte, form.password.data, ip=request.remote_addr or "")
        except throttle.TropDeTentatives as exc:
            form.form_errors.append(exc.message)
            status = 429
        except ServiceError as exc:
            _add_error(form, exc)
        else:
            target = auth.pop_next(url_for(".index"))
            db.session.commit()
            auth.login(compte)
            return redirect(target)
        db.session.commit()
    return render_template("gestionnaire/reauthenticate.html", form=form), status


# --- administration of accounts (admins only) -----------------------------------------


@bp.get("/comptes")
@allow("admin")
def list_comptes():
    return render_template("gestionnaire/list_comptes.html", comptes=gestionnaires.list_gestionnaires())


@bp.route("/comptes/nouveau", methods=("GET", "POST"))
@allow("admin")
@recent_login_required
def create_compte():
    form = GestionnaireForm()
    if form.validate_on_submit():
        try:
            compte = gestionnaires.create_account(email=form.email.data, nom=form.nom.data, role=form.role.data,
                                                  password=form.password.data)
        except ServiceError as exc:
            _add_error(form, exc)
        else:
            db.session.commit()
            flash(f"Compte créé pour {compte.email} : le mot de passe devra être changé à la première "
                  "connexion.", "success")
            return redirect(url_for(".list_comptes"))
    return render_template("gestionnaire/create_compte.html", form=form)


@bp.post("/comptes/<int:compte_id>/desactiver")
@allow("admin")
@recent_login_required
def deactivate_compte(compte_id: int):
    return _set_active(compte_id, False)


@bp.post("/comptes/<int:compte_id>/reactiver")
@allow("admin")
@recent_login_required
def reactivate_compte(compte_id: int):
    return _set_active(compte_id, True)


def _set_active(compte_id: int, actif: bool):
    compte = db.get_or_404(Gestionnaire, compte_id)
    try:
        gestionnaires.set_active(compte, actif, par=g.gestionnaire)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"Compte {compte.email} {'réactivé' if actif else 'désactivé'}.", "success")
    return redirect(url_for(".list_comptes"))


@bp.route("/comptes/<int:compte_id>/mot-de-passe", methods=("GET", "POST"))
@allow("admin")
@recent_login_required
def reset_compte_password(compte_id: int):
    compte = db.get_or_404(Gestionnaire, compte_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            gestionnaires.reset_password(compte, password=form.password.data, par=g.gestionnaire)
        except ServiceError as exc:
            _add_error(form, exc)
        else:
            db.session.commit()
            flash(f"Mot de passe de {compte.email} réinitialisé : il devra être changé à la prochaine "
                  "connexion.", "success")
            return redirect(url_for(".list_comptes"))
    return render_template("gestionnaire/reset_compte_password.html", form=form, compte=compte)
