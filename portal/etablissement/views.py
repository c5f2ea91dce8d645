"""Routes of the tracking service: a school head follows the establishment's registrations.

Every query is scoped to ``g.etablissement`` (set by the access guard) and to the
current session; ids read from a request are only ever looked up inside that scope.
"""
from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm import joinedload, selectinload

from .. import auth
from ..access import allow
from ..csvutil import csv_response
from ..telechargements import telechargement
from ..database import writes_on_get
from ..extensions import db
from ..formatting import format_datetime, plain_integer
from ..models import Inscription, utcnow
from ..services import (
    DatabaseLocked,
    ServiceError,
    audit,
    campagne,
    confirmations,
    etablissements,
    listes,
    pdf,
    throttle,
)
from . import bp
from .forms import (
    ActionForm,
    ChangePasswordForm,
    ChoixSpecialiteForm,
    InscriptionPasswordForm,
    LoginForm,
    SectionEuropeenneForm,
    parse_ids,
)

PER_PAGE = 50
ETAB_KINDS = ("etablissement",)


# --- layout ----------------------------------------------------------------------------


def _nav(etab) -> list[dict]:
    items = [("Tableau de bord", ".index"), ("Listes de candidats", ".list_listes"),
             ("Validation / annulation", ".edit_annulations"), ("Confirmations", ".choose_confirmations"),
             ("Élèves non inscrits", ".list_eleves_non_inscrits")]
    if etab.prepare_bcp:
        items.append(("Section européenne", ".answer_section_europeenne"))
    items += [("Mot de passe inscription", ".change_inscription_password"), ("Mot de passe suivi", ".change_password")]
    current = request.endpoint or ""
    return [{"label": label, "url": url_for(endpoint), "current": current == "etablissement" + endpoint}
            for label, endpoint in items]


@bp.context_processor
def _layout() -> dict:
    etab = g.get("etablissement")
    if etab is None or request.endpoint == "etablissement.logout":
        return {}
    values = {"logout_url": url_for(".logout"), "account_label": f"{etab.nom} ({etab.code})"}
    if not etab.suivi_password_default:
        values["nav_items"] = _nav(etab)
    return values


def _session_or_404():
    session_examen = campagne.current_session()
    if session_examen is None:
        abort(404)
    return session_examen


def _form_error(form, exc: ServiceError) -> None:
    target = form[exc.field].errors if exc.field and exc.field in form else form.form_errors
    target.append(exc.message)


# --- login, logout, passwords ----------------------------------------------------------


@bp.route("/connexion", methods=("GET", "POST"))
@allow("tous")
def login():
    if g.get("etablissement") is not None:
        return redirect(url_for(".index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            etab = etablissements.authenticate(form.code.data, form.password.data, request.remote_addr or "inconnu")
        except throttle.TropDeTentatives as exc:
            form.form_errors.append(exc.message)
            status = 429
        except ServiceError as exc:
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            auth.login(etab)
            if etab.suivi_password_default:
                return redirect(url_for(".change_password"))
            return redirect(auth.pop_next(url_for(".index")))
        db.session.commit()  # the audited failure
    return render_template("etablissement/login.html", form=form), status


@bp.post("/deconnexion")
@allow("etablissement", "etablissement_mdp_defaut")
def logout():
    etablissements.record_logout(g.etablissement)
    db.session.commit()
    auth.logout()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for(".login"))


@bp.route("/mot-de-passe", methods=("GET", "POST"))
@allow("etablissement", "etablissement_mdp_defaut")
def change_password():
    etab = g.etablissement
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            etablissements.change_suivi_password(etab, form.current_password.data, form.new_password.data)
        except DatabaseLocked:
            raise
        except ServiceError as exc:
            db.session.commit()  # only the audited failure was written
            _form_error(form, exc)
        else:
            db.session.commit()
            auth.login(etab)  # this browser goes on with the new token; every other session ended
            flash("Le mot de passe du suivi a été modifié.", "success")
            return redirect(url_for(".index"))
    return render_template("etablissement/change_password.html", form=form, etab=etab)


@bp.route("/mot-de-passe-inscription", methods=("GET", "POST"))
@allow(*ETAB_KINDS)
def change_inscription_password():
    etab = g.etablissement
    form = InscriptionPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            etablissements.change_inscription_password(
                etab, form.current_password.data, form.new_password.data, request.remote_addr or "inconnu")
        except DatabaseLocked:
            raise
        except ServiceError as exc:
            db.session.commit()  # only the audited failure was written
            _form_error(form, exc)
            if isinstance(exc, throttle.TropDeTentatives):
                status = 429
        else:
            db.session.commit()
            flash("Le mot de passe du service d'inscription a été modifié. Les postes ouverts devront "
                  "être reconnectés avec le nouveau mot de passe.", "success")
            return redirect(url_for(".index"))
    return render_template("etablissement/change_inscription_password.html", form=form, etab=etab), status


# --- dashboard, service, European section ------------------------------------------------


@bp.get("/")
@allow(*ETAB_KINDS)
def index():
    etab = g.etablissement
    session_examen = campagne.current_session()
    context = {"etab": etab, "session_examen": session_examen, "action_form": ActionForm(),
               "etat": campagne.etat_service(session_examen, "etablissement")}
    if session_examen is not None:
        context["totaux"] = listes.counts(etab, session_examen)
        context["par_specialite"] = listes.counts_by_specialite(etab, session_examen)
    return render_template("etablissement/index.html", **context)


def _set_service(ouvert: bool):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        changed = etablissements.set_service_ouvert(g.etablissement, ouvert)
    except DatabaseLocked:
        raise
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for(".index"))
    db.session.commit()
    if changed:
        flash("Le service d'inscription de l'établissement est ouvert." if ouvert
              else "Le service d'inscription de l'établissement est fermé.", "success")
    return redirect(url_for(".index"))


@bp.post("/service/ouvrir")
@allow(*ETAB_KINDS)
def open_service():
    return _set_service(True)


@bp.post("/service/fermer")
@allow(*ETAB_KINDS)
def close_service():
    return _set_service(False)


@bp.route("/section-europeenne", methods=("GET", "POST"))
@allow(*ETAB_KINDS)
def answer_section_europeenne():
    etab = g.etablissement
    if not etab.prepare_bcp:
        abort(404)
    session_examen = campagne.current_session()
    form = SectionEuropeenneForm()
    if request.method == "GET" and etab.section_europeenne is not None:
        form.reponse.data = "oui" if etab.section_europeenne else "non"
    if form.validate_on_submit():
        try:
            etablissements.answer_section_europeenne(etab, session_examen, form.answer)
        except DatabaseLocked:
            raise
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            db.session.commit()
            flash("Votre réponse sur les sections européennes est enregistrée.", "success")
            return redirect(url_for(".index"))
    locked = etablissements.section_europeenne_locked(etab, session_examen)
    return render_template("etablissement/answer_section_europeenne.html", form=form, etab=etab, locked=locked)


# --- lists -----------------------------------------------------------------------------


@bp.get("/listes")
@allow(*ETAB_KINDS)
def list_listes():
    etab = g.etablissement
    choix = ChoixSpecialiteForm(formdata=None).set_specialites(etab.specialites)
    return render_template("etablissement/list_listes.html", listes=listes.listes_for(etab), choix=choix)


SPECIALITE_NON_CHOISIE = "Sélectionnez une spécialité dans la liste."


class SpecialiteNonChoisie(Exception):
    """``?specialite=`` is empty, 0 or not a number: the user did not choose one (a 400 on the page)."""


def _specialite_demandee(etab, *, required: bool):
    """The specialty chosen in ``?specialite=``: None when the parameter is absent and not
    required; SpecialiteNonChoisie when it is empty, 0 or not a number (the empty choice of
    the drop-down list), or absent and required; 404 for an id that is not one of the
    establishment's specialties (never say whether it exists elsewhere)."""
    raw = request.args.get("specialite")
    if raw is None and not required:
        return None
    specialite_id = plain_integer(raw or "")
    if not specialite_id:
        raise SpecialiteNonChoisie()
    specialite = listes.specialite_of(etab, specialite_id)
    if specialite is None:
        abort(404)
    return specialite


def _choix_en_erreur(specialites) -> ChoixSpecialiteForm:
    """The drop-down list of specialties, in error: none was chosen."""
    choix = ChoixSpecialiteForm(formdata=None).set_specialites(specialites)
    choix.specialite.errors = [SPECIALITE_NON_CHOISIE]
    return choix


def _liste_sans_specialite(liste):
    """The list page again, with the error in its summary (400): no specialty was chosen."""
    choix = _choix_en_erreur(g.etablissement.specialites)
    exclure = request.args.get("annulees") == "exclure"
    return render_template("etablissement/show_liste.html", liste=liste, specialite=None, exclure=exclure,
                           page=None, choix=choix, form=choix, args={"kind": liste.kind}), 400


def _liste_request(kind: str, *, required: bool = False):
    """The list asked for, scoped to the logged-in establishment; 404 for anything else;
    SpecialiteNonChoisie when the list needs a specialty and none was chosen."""
    etab = g.etablissement
    session_examen = _session_or_404()
    liste = next((item for item in listes.listes_for(etab) if item.kind == kind), None)
    if liste is None:
        abort(404)
    specialite = None
    if liste.needs_specialite:
        try:
            specialite = _specialite_demandee(etab, required=required)
        except SpecialiteNonChoisie:
            raise SpecialiteNonChoisie(liste) from None
    exclure = request.args.get("annulees") == "exclure"
    stmt = None
    if not liste.needs_specialite or specialite is not None:
        stmt = listes.list_query(etab, session_examen, kind, specialite=specialite, exclure_annulees=exclure)
    return liste, specialite, exclure, stmt, session_examen


def _liste_args(liste, specialite, exclure) -> dict:
    args = {"kind": liste.kind}
    if specialite is not None:
        args["specialite"] = specialite.id
    if exclure:
        args["annulees"] = "exclure"
    return args


@bp.get("/listes/<kind>")
@allow(*ETAB_KINDS)
def show_liste(kind: str):
    try:
        liste, specialite, exclure, stmt, _session = _liste_request(kind)
    except SpecialiteNonChoisie as exc:
        return _liste_sans_specialite(exc.args[0])
    page = db.paginate(stmt, per_page=PER_PAGE, max_per_page=PER_PAGE) if stmt is not None else None
    choix = ChoixSpecialiteForm(request.args, meta={"csrf": False}).set_specialites(g.etablissement.specialites)
    return render_template("etablissement/show_liste.html", liste=liste, specialite=specialite, exclure=exclure,
                           page=page, choix=choix, args=_liste_args(liste, specialite, exclure))


def _audit_download(what: str, **details) -> None:
    audit.record("etablissement.telechargement", g.etablissement, details={"document": what, **details})


def _liste_filename(liste, specialite, extension: str) -> str:
    suffix = f"-{specialite.id}" if specialite is not None else ""
    return f"liste-{liste.kind}{suffix}-{g.etablissement.code}.{extension}".replace(" ", "")


@bp.get("/listes/<kind>/pdf")
@allow(*ETAB_KINDS)
@writes_on_get
def download_liste_pdf(kind: str):
    try:
        liste, specialite, exclure, stmt, session_examen = _liste_request(kind, required=True)
    except SpecialiteNonChoisie as exc:
        return _liste_sans_specialite(exc.args[0])
    rows = db.session.scalars(stmt).all()
    content = pdf.render_pdf("liste.html", etablissement=g.etablissement, liste=liste, rows=rows,
                             specialite=specialite, exclure_annulees=exclure, session_label=session_examen.libelle,
                             generated_at=format_datetime(utcnow()), document_title=liste.titre)
    _audit_download("liste", format="pdf", liste=kind, specialite=specialite.code if specialite else None,
                    lignes=len(rows))
    db.session.commit()
    return telechargement(content, _liste_filename(liste, specialite, "pdf"), "application/pdf")


@bp.get("/listes/<kind>/csv")
@allow(*ETAB_KINDS)
@writes_on_get
def download_liste_csv(kind: str):
    try:
        liste, specialite, exclure, stmt, _session = _liste_request(kind, required=True)
    except SpecialiteNonChoisie as exc:
        return _liste_sans_specialite(exc.args[0])
    rows = db.session.scalars(stmt).all()
    _audit_download("liste", format="csv", liste=kind, specialite=specialite.code if specialite else None,
                    lignes=len(rows))
    db.session.commit()
    return csv_response(_liste_filename(liste, specialite, "csv"), listes.HEADER, [listes.row(i) for i in rows])


# --- validation / cancellation --------------------------------------------------------


def _annulations_args() -> dict:
    args = {}
    for name in ("specialite", "page"):
        value = request.values.get(name, type=int)
        if value:
            args[name] = value
    return args


@bp.route("/validation", methods=("GET", "POST"))
@allow(*ETAB_KINDS)
def edit_annulations():
    etab = g.etablissement
    session_examen = _session_or_404()
    form = ActionForm()
    if request.method == "POST":
        return _apply_annulations(form, etab, session_examen)
    try:
        specialite = _specialite_demandee(etab, required=False)
    except SpecialiteNonChoisie:
        specialite = None  # the empty choice here is "Toutes les spécialités"
    stmt = listes.list_query(etab, session_examen, "specialite" if specialite else "alphabetique",
                             specialite=specialite)
    page = db.paginate(stmt, per_page=PER_PAGE, max_per_page=PER_PAGE)
    choix = ChoixSpecialiteForm(request.args, meta={"csrf": False}).set_specialites(
        etab.specialites, empty="Toutes les spécialités")
    return render_template("etablissement/edit_annulations.html", form=form, page=page, choix=choix,
                           specialite=specialite, args=_annulations_args())


def _apply_annulations(form, etab, session_examen):
    if not form.validate_on_submit():
        abort(400)
    try:
        shown = parse_ids(request.form.getlist("ids"))
        cancelled = parse_ids(request.form.getlist("annulee"))
    except ValueError:
        abort(400)
    try:
        changed = etablissements.update_cancellations(etab, session_examen, shown, cancelled)
    except LookupError:
        db.session.rollback()
        abort(404)
    except DatabaseLocked:
        raise
    except ServiceError as exc:
        db.session.rollback()
        flash(f"Aucune modification n'a été enregistrée. {exc.message}", "error")
        return redirect(url_for(".edit_annulations", **_annulations_args()))
    db.session.commit()
    flash("Aucune modification." if not changed else
          f"{changed} inscription{'s' if changed > 1 else ''} mise{'s' if changed > 1 else ''} à jour.", "success")
    return redirect(url_for(".edit_annulations", **_annulations_args()))


# --- confirmations ---------------------------------------------------------------------


@bp.get("/confirmations")
@allow(*ETAB_KINDS)
def choose_confirmations():
    choix = ChoixSpecialiteForm(formdata=None).set_specialites(g.etablissement.specialites)
    return render_template("etablissement/choose_confirmations.html", choix=choix)


@bp.get("/confirmations/pdf")
@allow(*ETAB_KINDS)
@writes_on_get
def download_confirmations():
    etab = g.etablissement
    session_examen = _session_or_404()
    try:
        specialite = _specialite_demandee(etab, required=True)
    except SpecialiteNonChoisie:
        choix = _choix_en_erreur(etab.specialites)
        return render_template("etablissement/choose_confirmations.html", choix=choix, form=choix), 400
    stmt = (listes.list_query(etab, session_examen, "specialite", specialite=specialite, exclure_annulees=True)
            .options(selectinload(Inscription.versions), joinedload(Inscription.session),
                     joinedload(Inscription.etablissement)))
    rows = db.session.scalars(stmt).unique().all()
    if not rows:
        flash(f"Aucun candidat actif dans la spécialité {specialite.code} : aucune confirmation à imprimer.", "info")
        return redirect(url_for(".choose_confirmations"))
    content = confirmations.confirmations_batch(rows)
    _audit_download("confirmations", specialite=specialite.code, lignes=len(rows))
    db.session.commit()
    return telechargement(content, f"confirmations-{specialite.id}-{etab.code}-{date.today():%Y%m%d}.pdf",
                          "application/pdf")


# --- pupils not registered -------------------------------------------------------------


@bp.get("/eleves-non-inscrits")
@allow(*ETAB_KINDS)
def list_eleves_non_inscrits():
    etab = g.etablissement
    session_examen = _session_or_404()
    page = db.paginate(listes.eleves_non_inscrits(etab, session_examen), per_page=PER_PAGE, max_per_page=PER_PAGE)
    hors_base = db.session.scalars(listes.inscriptions_hors_base(etab, session_examen)).all()
    return render_template("etablissement/list_eleves_non_inscrits.html", page=page, hors_base=hors_base)


@bp.get("/eleves-non-inscrits/csv")
@allow(*ETAB_KINDS)
@writes_on_get
def download_eleves_non_inscrits():
    etab = g.etablissement
    session_examen = _session_or_404()
    rows = db.session.scalars(listes.eleves_non_inscrits(etab, session_examen)).all()
    _audit_download("eleves_non_inscrits", format="csv", lignes=len(rows))
    db.session.commit()
    return csv_response(f"eleves-non-inscrits-{etab.code}.csv", listes.ELEVE_HEADER,
                        [listes.eleve_row(e) for e in rows])
