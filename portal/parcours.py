"""The step-by-step registration flow shared by both services: the draft kept on the server,
each step's page (``run_step``), the review and final submission (``run_review``), and the
answer to a repeated submission.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, render_template, request, session
from werkzeug.datastructures import MultiDict

from .extensions import db
from .models import LIBELLES
from .services import DatabaseLocked, ServiceError, brouillons, candidatures, throttle
from .etapes import ETAPES, TITRES_ETAPES, ContactForm, FormeForm, IdentiteForm, SpecialiteForm

INCOMPLET = "Certaines informations manquent ou ne sont plus valables : vérifiez cette étape."


class EtapeIncomplete(Exception):
    def __init__(self, step: str, message: str = INCOMPLET):
        super().__init__(step)
        self.step = step
        self.message = message


@dataclass(frozen=True)
class Enregistrement:
    """What a submission saved. It replaces the draft, whose id stays in the session, so
    that a repeated submission (double click, second tab, Back then submit, a retried
    request), a Back or a reload answer with the same registration and its number."""

    inscription_id: int
    numero_version: str
    # A public candidate's login token (None in school).
    session_token: str | None = None
    # False: a modification that changed nothing.
    modifiee: bool = True
    # True when answering again, not the submission that saved it.
    deja: bool = False

    def as_draft(self) -> dict:
        return {"inscription": self.inscription_id, "numero_version": self.numero_version,
                "token": self.session_token, "modifiee": self.modifiee}

    @classmethod
    def from_draft(cls, data) -> Enregistrement | None:
        if not isinstance(data, dict) or not isinstance(data.get("inscription"), int):
            return None
        return cls(data["inscription"], str(data.get("numero_version", "")), data.get("token"),
                   bool(data.get("modifiee", True)), deja=True)


def attach_error(form, exc: ServiceError) -> None:
    """Show a service refusal next to its field, or on top of the form."""
    if exc.field and exc.field in form:
        form[exc.field].errors = list(form[exc.field].errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)


SOUMIS = "soumis"


class Parcours:
    """One registration being entered step by step; its draft (the cleaned strings of each
    step, validated again at the final submission) is kept on the server, its id in the
    session under ``key``."""

    def __init__(self, ctx: candidatures.Contexte, key: str, *, adresse_requise: bool,
                 quota: throttle.Quota | None = None):
        self.ctx = ctx
        self.key = key
        self.adresse_requise = adresse_requise
        # Counts each new draft against the client address (anonymous flow only).
        self.quota = quota
        self._specialites: list | None = None
        self._brouillon: dict | None = None
        self._checked: dict | None = None

    # the draft: on the server, the session only holds its id
    @property
    def brouillon(self) -> dict:
        if self._brouillon is None:
            self._brouillon = brouillons.load(session.get(self.key))
        return self._brouillon

    def save(self, step: str, values: dict[str, str]) -> None:
        draft = dict(self.brouillon)
        if step in ("identite", "specialite") and draft.get(step) != values:
            draft.pop("forme", None)  # its questions depend on the status and the specialty
        draft[step] = values
        self.start(draft)

    def start(self, draft: dict) -> None:
        draft_id = brouillons.save(session.get(self.key), draft)
        if session.get(self.key) != draft_id:  # same draft: the cookie needs no new signature
            if self.quota is not None:  # a new draft: past the quota, QuotaExceeded rolls it back
                self.quota.consume(request.remote_addr or "")
            session[self.key] = draft_id
        self._brouillon, self._checked = draft, None

    def reload(self) -> Parcours:
        """Forget the draft read earlier in this request (another request may have changed it)."""
        self._brouillon, self._checked = None, None
        return self

    # after the submission
    def enregistrement(self) -> Enregistrement | None:
        """What this draft's submission saved, if it was submitted."""
        return Enregistrement.from_draft(self.brouillon.get(SOUMIS))

    def finish(self, saved: Enregistrement) -> None:
        """The draft becomes the record of what was saved (the answers themselves go)."""
        self.start({SOUMIS: saved.as_draft()})

    def answer(self, done: Callable, saved: Enregistrement):
        """``done(saved)``; the draft's id stays in the session even when ``done`` starts a
        new one (a public candidate's login), for Back and reload to find it."""
        draft_id = session.get(self.key)
        response = done(saved)
        if draft_id and session.get(self.key) != draft_id:
            session[self.key] = draft_id
        return response

    # what the steps offer
    @property
    def specialites(self) -> list:
        if self._specialites is None:
            self._specialites = candidatures.specialites_offertes(self.ctx)
        return self._specialites

    def specialite(self):
        wanted = self.brouillon.get("specialite", {}).get("specialite")
        if not wanted:
            return None
        return next((s for s in self.specialites if str(s.id) == wanted), None)

    def statut(self) -> str | None:
        return self.brouillon.get("identite", {}).get("statut")

    def steps(self) -> list[str]:
        steps = ["identite", "contact", "specialite"]
        specialite = self.specialite()
        if specialite is not None and candidatures.forme_demandee(specialite, self.ctx.etablissement, self.statut()):
            steps.append("forme")
        return steps + ["recapitulatif"]

    def next_step(self, step: str) -> str:
        steps = self.steps()
        return steps[min(steps.index(step) + 1, len(steps) - 1)]

    def first_missing(self, step: str) -> str | None:
        steps = self.steps()
        for previous in steps[:steps.index(step)]:
            if previous != "recapitulatif" and previous not in self.brouillon:
                return previous
        return None

    def form(self, step: str, *, draft: bool = False, csrf: bool = True):
        kwargs: dict = {}
        if draft:
            saved = self.brouillon.get(step)
            kwargs["formdata"] = MultiDict(saved) if saved else None
        if not csrf:
            kwargs["meta"] = {"csrf": False}
        if step == "identite":
            return IdentiteForm(statuts=candidatures.statuts_possibles(self.ctx.etablissement),
                                libelles=LIBELLES["statut_candidat"],
                                ine_requis=candidatures.has_base_eleves(self.ctx.session, self.ctx.etablissement),
                                **kwargs)
        if step == "contact":
            return ContactForm(adresse_requise=self.adresse_requise, **kwargs)
        if step == "specialite":
            return SpecialiteForm(specialites=self.specialites, **kwargs)
        specialite = self.specialite()
        return FormeForm(formes=specialite.formes if specialite else (), libelles=LIBELLES["forme"],
                         europe=specialite is not None and candidatures.section_europeenne_demandee(
                             specialite, self.ctx.etablissement, self.statut()), **kwargs)

    # the final checks
    def checked_forms(self) -> dict:
        """Every step's form rebuilt from the draft and validated again (once per request:
        the review page shows them and the submission uses them)."""
        if self._checked is not None:
            return self._checked
        forms = {}
        for step in self.steps()[:-1]:
            form = self.form(step, draft=True, csrf=False)
            if step not in self.brouillon:
                raise EtapeIncomplete(step)
            if not form.validate():
                raise EtapeIncomplete(step, self._raison(step))
            forms[step] = form
        self._checked = forms
        return forms

    def _raison(self, step: str) -> str:
        """Why a step valid when entered is no longer: the chosen specialty's exam closed or
        the specialty left the catalogue meanwhile (the rest of the draft is kept)."""
        wanted = self.brouillon.get("specialite", {}).get("specialite", "")
        if step == "specialite" and wanted.isdigit():
            raison = candidatures.raison_indisponible(self.ctx, int(wanted))
            if raison:
                return f"{raison} Vos autres réponses sont conservées : choisissez une autre spécialité."
        return INCOMPLET

    def candidature(self) -> tuple[dict, candidatures.Choix]:
        forms = self.checked_forms()
        candidat = {**_typed(forms["identite"]), **_typed(forms["contact"])}
        extra = forms["forme"].choix_values() if "forme" in forms else {}
        return candidat, candidatures.Choix(int(forms["specialite"].specialite.data), **extra)

    def identite(self) -> dict:
        form = self.form("identite", draft=True, csrf=False)
        if not form.validate():
            raise EtapeIncomplete("identite")
        return _typed(form)

    def precheck(self, step: str, form) -> None:
        """Rules that can be told early: the specialty against age, calendar and pupil base."""
        if step == "specialite":
            candidatures.precheck_specialite(self.ctx, self.identite(), int(form.specialite.data))

    def recapitulatif(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """(step, title, [(label, shown value)]) of each step, for the review page."""
        sections = []
        for step, form in self.checked_forms().items():
            rows = [(field.label.text, _shown(field)) for field in form
                    if field.name != "csrf_token" and (field.name != "section_europeenne" or form.europe)]
            sections.append((step, TITRES_ETAPES[step], rows))
        return sections


def _typed(form) -> dict:
    return {f.name: f.data for f in form if f.name != "csrf_token"}


def _shown(field) -> str:
    if field.type in ("RadioField", "SelectField"):
        return {c.value: c.label for c in field.choices}.get(field.data, "") or "Non renseigné"
    if isinstance(field.data, date):
        return field.data.strftime("%d/%m/%Y")
    return field.data or "Non renseigné"


def run_review(parcours: Parcours, form, *, step_url: Callable[[str], str], submit: Callable, done: Callable,
               render: Callable):
    """The review page of a registration flow (school computer, public creation and
    modification): every step shown as entered; a valid POST checks every rule again through
    ``submit(candidat, choix)`` (which returns an ``Enregistrement``), keeps what it saved in
    place of the draft, commits and answers ``done(enregistrement)``. A draft already
    submitted answers ``done`` again (``deja``): a second click, a second tab, Back then
    submit, a retried request or a reload get the same registration, never a refusal or an
    empty first step. A refusal rolls back and is shown on the page (``render(sections)``);
    a locked database goes on to its maintenance page."""
    saved = parcours.enregistrement()
    if saved is not None:
        return parcours.answer(done, saved)
    try:
        sections = parcours.recapitulatif()
        candidat, choix = parcours.candidature()
    except EtapeIncomplete as exc:
        flash(exc.message, "warning")
        return redirect(step_url(exc.step))
    if form.validate_on_submit():
        try:
            result = submit(candidat, choix)
        except DatabaseLocked:
            raise
        except ServiceError as exc:
            db.session.rollback()
            # The same draft submitted at the same time by another request, which won.
            saved = parcours.reload().enregistrement()
            if saved is not None:
                return parcours.answer(done, saved)
            attach_error(form, exc)
        else:
            parcours.finish(result)
            db.session.commit()
            return parcours.answer(done, result)
    return render(sections)


def run_step(parcours: Parcours, step: str, *, template: str, step_url: Callable[[str], str], done: Callable,
             **context):
    """GET shows a step prefilled from the draft; POST validates it, saves it, goes on. Once
    the draft is submitted, every step answers ``done`` again (see ``run_review``)."""
    saved = parcours.enregistrement()
    if saved is not None:
        return parcours.answer(done, saved)
    if step not in parcours.steps() or step == "recapitulatif":
        abort(404)
    missing = parcours.first_missing(step)
    if missing:
        return redirect(step_url(missing))
    if request.method == "POST":
        form = parcours.form(step)
        if form.validate():
            try:
                parcours.precheck(step, form)
            except EtapeIncomplete as exc:
                return redirect(step_url(exc.step))
            except ServiceError as exc:
                attach_error(form, exc)
            else:
                parcours.save(step, form.values())
                target = step_url(parcours.next_step(step))  # before the commit expires the rows
                db.session.commit()
                return redirect(target)
    else:
        form = parcours.form(step, draft=True)
    if step == "specialite":
        context["calendrier"] = candidatures.calendrier(parcours.ctx)
    return render_template(template, form=form, **step_context(parcours, step), **context)


def step_context(parcours: Parcours, step: str) -> dict:
    """The stepper's values: the step's number and the total come from ``ETAPES`` (the same
    on every page); the next and previous titles from the steps this registration takes."""
    steps = parcours.steps()
    index = steps.index(step)
    return {"step": step, "steps": steps, "step_number": ETAPES.index(step) + 1, "step_count": len(ETAPES),
            "step_title": TITRES_ETAPES[step],
            "previous_step": steps[index - 1] if index > 0 else None,
            "next_title": TITRES_ETAPES[steps[index + 1]] if index + 1 < len(steps) else None,
            "specialite_choisie": parcours.specialite()}


def resumes_after_csrf_error(resolve: Callable[[], tuple[Parcours, Callable]]):
    """Mark a review view whose form, posted again once the registration is saved, must
    answer with it even though its CSRF token belonged to the session before the login
    (a public candidate's Back then submit): ``resolve()`` gives the flow and its ``done``.
    Nothing is written: the answer only shows what the draft's submission saved."""
    def decorate(view):
        def after_csrf_error():
            parcours, done = resolve()
            saved = parcours.enregistrement()
            return parcours.answer(done, saved) if saved is not None else None

        view.after_csrf_error = after_csrf_error
        return view

    return decorate
