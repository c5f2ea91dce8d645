"""Manager routes: dashboard, establishments follow-up, passes, audit trail."""
from __future__ import annotations

from datetime import date, datetime

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ...access import allow
from ...extensions import db
from ...formatting import plain_integer
from ...models import Eleve, Etablissement
from ...services import ServiceError, campagne, etablissements, listes, passes, suivi
from .. import bp, graphiques
from ..decorators import recent_login_required
from ..forms import LaissezPasserForm

PER_PAGE = 50
TOP_SPECIALITES = 20


@bp.get("/")
@allow("gestionnaire")
def index():
    session_examen = campagne.current_session()
    if session_examen is None:
        return render_template("gestionnaire/index.html", session_examen=None)
    examens = suivi.par_examen(session_examen)
    groupes = suivi.specialites_par_examen(session_examen)
    specialites = sorted((ligne for groupe in groupes for ligne in groupe.lignes),
                         key=lambda ligne: (-ligne.actives, ligne.code))
    etabs = suivi.par_etablissement(session_examen)
    jours = suivi.par_jour(session_examen)
    totaux = suivi.totaux(session_examen)
    campagnes = suivi.campagne_par_jour(session_examen)
    avancement = suivi.avancement_campagne(session_examen)
    parts = suivi.part_base_inscrite(session_examen, avancement=avancement)
    charts = {
        "campagne": graphiques.courbe_campagne(
            "Inscriptions actives cumulées, par examen, au fil de la campagne", campagnes) if campagnes else None,
        "parts": graphiques.barres_parts(
            "Part de la base élèves déjà inscrite (%)", parts) if parts else None,
        "examens": graphiques.barres("Inscriptions par examen", examens),
        "specialites": graphiques.barres(f"Les {TOP_SPECIALITES} spécialités les plus demandées",
                                         specialites[:TOP_SPECIALITES], horizontal=True),
        "etablissements": graphiques.barres("Inscriptions par établissement (20 premiers)", etabs[:20],
                                            horizontal=True),
    }
    return render_template("gestionnaire/index.html", session_examen=session_examen, examens=examens,
                           groupes=groupes, etablissements=etabs, jours=jours, totaux=totaux,
                           campagnes=campagnes, avancement=avancement, parts=parts, charts=charts)


def _page() -> int:
    return request.args.get("page", 1, type=int) or 1


@bp.get("/etablissements")
@allow("gestionnaire")
def list_etablissements():
    session_examen = campagne.current_session()
    q = request.args.get("q", "")[:100]
    tri = request.args.get("tri", "code")
    if tri not in suivi.TRIS:
        tri = "code"
    page = db.paginate(suivi.etablissements_query(session_examen, q=q, tri=tri), page=_page(),
                       per_page=PER_PAGE, error_out=False)
    lignes = suivi.suivi_etablissements(session_examen, list(page.items))
    return render_template("gestionnaire/list_etablissements.html", page=page, lignes=lignes, q=q, tri=tri,
                           tris=suivi.TRIS)


def _etablissement_or_404(code: str) -> Etablissement:
    etab = db.session.scalar(select(Etablissement).where(Etablissement.code == code.upper()))
    if etab is None:
        abort(404)
    return etab


@bp.get("/etablissements/<code>")
@allow("gestionnaire")
def show_etablissement(code: str):
    etab = _etablissement_or_404(code)
    session_examen = campagne.current_session()
    eleves, hors_base = [], []
    if session_examen is not None:
        # The head's page of pupils not registered asks the same two questions (listes.py).
        eleves = db.session.scalars(listes.eleves_non_inscrits(etab, session_examen)).all()
        hors_base = db.session.scalars(listes.inscriptions_hors_base(etab, session_examen)).all()
    return render_template("gestionnaire/show_etablissement.html", etab=etab, eleves=eleves,
                           hors_base=hors_base)


@bp.post("/etablissements/<code>/mots-de-passe")
@allow("gestionnaire")
@recent_login_required
def reset_etablissement_passwords(code: str):
    etab = _etablissement_or_404(code)
    if request.form.get("confirmation") != "oui":
        flash("Cochez la case de confirmation pour réinitialiser les mots de passe.", "error")
        return redirect(url_for(".show_etablissement", code=etab.code))
    etablissements.reset_passwords(etab)
    db.session.commit()
    flash(f"Les deux mots de passe de {etab.code} sont revenus au code de l'établissement ; "
          "ses sessions ouvertes et son service d'inscription sont fermés.", "success")
    return redirect(url_for(".show_etablissement", code=etab.code))


# --- laissez-passer ------------------------------------------------------------------


@bp.get("/laissez-passer")
@allow("gestionnaire")
def list_laissez_passer():
    session_examen = campagne.current_session()
    code = request.args.get("etablissement", "").strip().upper()[:8]
    etab = None
    if code:
        etab = db.session.scalar(select(Etablissement).where(Etablissement.code == code))
    # ?eleve=<id>: the one pupil a link of an establishment's page points to.
    eleve_id = plain_integer(request.args.get("eleve"))
    page = None
    if session_examen is not None and (etab is not None or not code):
        stmt = passes.eleves_decision_d_query(session_examen, etablissement=etab)
        if eleve_id is not None:
            stmt = stmt.where(Eleve.id == eleve_id)
        page = db.paginate(stmt, page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("gestionnaire/list_laissez_passer.html", page=page, code=code, etab=etab,
                           eleve_id=eleve_id, form=LaissezPasserForm(), session_examen=session_examen)


@bp.post("/eleves/<int:eleve_id>/laissez-passer")
@allow("gestionnaire")
def grant_laissez_passer(eleve_id: int):
    eleve = db.get_or_404(Eleve, eleve_id)
    form = LaissezPasserForm()
    if not form.validate_on_submit():
        flash("Indiquez le motif du laissez-passer.", "error")
    else:
        try:
            passes.grant_laissez_passer(eleve, motif=form.motif.data, par=g.gestionnaire.email)
        except ServiceError as exc:
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(f"Laissez-passer accordé à {eleve.nom} {eleve.prenoms}.", "success")
    return redirect(url_for(".list_laissez_passer", etablissement=request.form.get("retour", "")[:8] or None))


@bp.post("/eleves/<int:eleve_id>/laissez-passer/revoquer")
@allow("gestionnaire")
def revoke_laissez_passer(eleve_id: int):
    eleve = db.get_or_404(Eleve, eleve_id)
    try:
        passes.revoke_laissez_passer(eleve, par=g.gestionnaire.email)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"Laissez-passer de {eleve.nom} {eleve.prenoms} révoqué.", "success")
    return redirect(url_for(".list_laissez_passer", etablissement=request.form.get("retour", "")[:8] or None))


# --- audit trail (read-only) ---------------------------------------------------------


def _date_arg(name: str, errors: dict[str, str]) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            found = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if 1900 <= found.year <= 2999:  # the bounds of the range query must stay computable
            return found
    errors[name] = "Date invalide : utilisez le format JJ/MM/AAAA."
    return None


@bp.get("/journal")
@allow("gestionnaire")
def list_audit():
    errors: dict[str, str] = {}
    filtre = suivi.FiltreAudit(
        etablissement=request.args.get("etablissement", "")[:8],
        candidat=request.args.get("candidat", "")[:100],
        acteur=request.args.get("acteur", "")[:254],
        action=request.args.get("action", "")[:60],
        du=_date_arg("du", errors), au=_date_arg("au", errors))
    page = db.paginate(suivi.audit_query(filtre, campagne.current_session()), page=_page(), per_page=PER_PAGE,
                       error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("gestionnaire/list_audit.html", page=page, filtre=filtre, errors=errors, args=args,
                           actions=suivi.actions_connues()), (400 if errors else 200)
