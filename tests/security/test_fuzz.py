"""Hypothesis fuzzing of every form of every service (SECURITY items 21 and 23).

Each form gets random text (control characters, NUL, RTL marks, emoji, very long strings,
template and script payloads), random extra fields and random choices. Whatever is sent:
never a 500, and when the answer is not a success redirect, not one row of the domain
tables changed (the audit trail may record a refused attempt, nothing else).
Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (NUL and over-long values are
refused there by the database itself, so they must be stopped before it).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.extensions import db, limiter
from portal.models import Inscription
from tests.conftest import STRONG_PASSWORD, open_computer
from tests.inscription.conftest import CONTACT, IDENTITE, publish  # noqa: F401

NASTY = [
    "", " ", "\x00", "a\x00b", "\t", "\r\n", "ligne1\nligne2", "\u202eelbisivni", "\u200f\u200e", "\ufeff",
    "😀" * 30, "👨‍👩‍👧‍👦", "{{7*7}}", "{% raw %}", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)", "' OR '1'='1", "1; DROP TABLE inscriptions; --", "O'Hara", "ねこ", "Ωμέγα",
    "x" * 257, "é" * 5000, "A" * 100_000, "%00", "../../etc/passwd", "=HYPERLINK(\"http://x\")", "0", "-1",
    "99999999999999999999", "1e308", "NaN", "2027-02-30", "31/12/9999", "01/01/0001", "0000-00-00",
    "0001-01-01T00:00", "9999-12-31T23:59", "31/12/9999 23:59", "oui", "non", "on",
]
TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=80),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=12),
    st.text(min_size=200, max_size=400),
    st.integers().map(str),
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
    st.dates(min_value=date(1000, 1, 1)).map(lambda d: d.strftime("%d/%m/%Y")),
    st.datetimes(min_value=datetime(1, 1, 1)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M").zfill(16)),
)
EXTRA = st.dictionaries(st.sampled_from(["etablissement_id", "role", "is_admin", "statut", "numero",
                                         "session_id", "source", "annulee", "version", "seq", "actif"]),
                        TEXT, max_size=3)
# FUZZ_EXAMPLES=400 for a longer hunt (about 5 minutes) than the 30 examples of every run.
SETTINGS = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "30")), deadline=None, derandomize=False,
                    database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
# Tables whose row count a refused request may change: the trail of the refusal.
NOT_COUNTED = {"audit_events"}


def row_counts() -> dict[str, int]:
    db.session.rollback()
    return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in db.metadata.sorted_tables if t.name not in NOT_COUNTED}


def check(response, before: dict[str, int], what: str, succeeded=None) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}\n{response.get_data(as_text=True)[:800]}"
    if response.status_code not in (301, 302, 303) and not (succeeded and succeeded(response)):
        after = row_counts()
        assert after == before, f"{what}: refused ({response.status_code}) but rows changed: " + str(
            {k: (before[k], after[k]) for k in before if before[k] != after[k]})


def form_of(fields) -> st.SearchStrategy:
    """Random values for the form's fields, some fields left out, plus forged extra fields."""
    values = st.fixed_dictionaries({}, optional={name: strategy for name, strategy in fields.items()})
    return st.tuples(values, EXTRA).map(lambda pair: {**pair[1], **pair[0]})


def fields(*names: str, **special) -> dict:
    return {**{name: TEXT for name in names}, **special}


# --- the world the forms act on --------------------------------------------------------


@dataclass
class World:
    clients: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)


@pytest.fixture(autouse=True)
def _fresh_limiter(app):
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def world(app, session_examen, make_specialite, make_etablissement, make_gestionnaire, make_eleve, examens,
          make_inscription, publish, open_service):  # noqa: F811
    cap = make_specialite("CAP", libelle="Cuisine")
    bcp = make_specialite("BCP", libelle="Commerce", forme_progressive=True)
    publish(session_examen, cap, bcp)
    open_service(session_examen, "etablissement")
    open_service(session_examen, "public")
    etab = make_etablissement(password=STRONG_PASSWORD + " A", inscription_password=STRONG_PASSWORD,
                              specialites=[cap, bcp], service_ouvert=True, section_europeenne=True)
    autre = make_etablissement(password=STRONG_PASSWORD + " B", specialites=[cap])
    eleve = make_eleve(autre, session_examen, examens["CAP"], decision="D")
    own = make_inscription(session_examen, cap, etab)
    public = make_inscription(session_examen, cap, candidat={"date_naissance": date(1990, 2, 3)})
    admin = make_gestionnaire(role="admin")
    other = make_gestionnaire()
    w = World(ids={"etab": etab, "autre": autre, "eleve": eleve, "own": own, "public": public, "cap": cap,
                   "bcp": bcp, "admin": admin, "other": other, "session": session_examen})
    for kind in ("anonyme", "chef", "poste", "admin", "candidat"):
        w.clients[kind] = client_for(app, w, kind)
    return w


def client_for(app, w: World, kind: str):
    http = app.test_client()
    with http.session_transaction() as sess:
        sess["login_at"] = time.time()
        sess.permanent = True
        if kind == "chef":
            sess["_user_id"] = w.ids["etab"].get_id()
        if kind == "admin":
            sess["_user_id"] = w.ids["admin"].get_id()
        if kind == "poste":
            sess["poste"] = {"etab": w.ids["etab"].id, "token": w.ids["etab"].inscription_token,
                             "id": open_computer(w.ids["etab"])}
        if kind == "candidat":
            sess["candidat"] = {"inscription": w.ids["public"].id, "token": w.ids["public"].session_token}
        if "_user_id" in sess:
            sess["_fresh"] = True
    return http


def walk(http, prefix: str, steps: list[tuple[str, dict]]) -> None:
    """Fill the earlier steps with valid answers, through the routes (wherever the draft is kept)."""
    for step, data in steps:
        response = http.post(f"{prefix}/{step}", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]


PUBLIC_IDENTITE = {**IDENTITE, "statut": "individuel", "date_naissance": "1990-02-03", "nom_naissance": "Martin"}
PUBLIC_CONTACT = {"email": "lea@example.org", "telephone": "", "adresse1": "1 rue A", "adresse2": "",
                  "code_postal": "69001", "commune": "Lyon", "pays": "France"}
ORDER = ["identite", "contact", "specialite", "forme", "recapitulatif"]


def school_steps(upto: str):
    def before(w: World, http) -> None:
        steps = [("identite", IDENTITE), ("contact", CONTACT), ("specialite", {"specialite": str(w.ids["bcp"].id)}),
                 ("forme", {"forme": "globale", "section_europeenne": "non"})]
        walk(http, "/inscription/etape", [s for s in steps if ORDER.index(s[0]) < ORDER.index(upto)])

    return before


def public_steps(upto: str):
    def before(w: World, http) -> None:
        steps = [("identite", PUBLIC_IDENTITE), ("contact", PUBLIC_CONTACT),
                 ("specialite", {"specialite": str(w.ids["cap"].id)})]
        walk(http, "/public/inscription", [s for s in steps if ORDER.index(s[0]) < ORDER.index(upto)])

    return before


# --- the forms -------------------------------------------------------------------------

SAME = st.one_of(TEXT, st.sampled_from(["Une phrase de passe toute neuve 2027", "azerty123456",
                                        "motdepasse12", "x" * 256, "x" * 257, "😀" * 12]))


def _pair(name: str, confirmation: str):
    """A new password and its confirmation, equal half of the time."""
    return st.one_of(
        st.tuples(SAME, SAME).map(lambda p: {name: p[0], confirmation: p[1]}),
        SAME.map(lambda v: {name: v, confirmation: v}),
    )


@dataclass
class Spec:
    name: str
    kind: str
    url: object  # str or callable(World) -> str
    data: object  # strategy of dicts
    method: str = "POST"
    before: object = None  # callable(World, client)
    succeeded: object = None  # callable(response): a success answered without a redirect


def _url(spec: Spec, w: World) -> str:
    return spec.url(w) if callable(spec.url) else spec.url


def with_pair(base, name, confirmation):
    return st.tuples(form_of(base), _pair(name, confirmation)).map(lambda p: {**p[0], **p[1]})


SPECS = [
    # tracking service (school head)
    Spec("etablissement.login", "anonyme", "/etablissement/connexion", form_of(fields("code", "password"))),
    Spec("etablissement.change_password", "chef", "/etablissement/mot-de-passe",
         with_pair(fields("current_password"), "new_password", "confirmation")),
    Spec("etablissement.change_inscription_password", "chef", "/etablissement/mot-de-passe-inscription",
         with_pair(fields("current_password"), "new_password", "confirmation")),
    Spec("etablissement.section_europeenne", "chef", "/etablissement/section-europeenne",
         form_of(fields("reponse"))),
    Spec("etablissement.validation", "chef", "/etablissement/validation",
         form_of(fields("ids", "annulee", "specialite", "page"))),
    Spec("etablissement.listes", "chef", lambda w: "/etablissement/listes/alphabetique", method="GET",
         data=form_of(fields("specialite", "annulees", "page"))),
    # school computer
    Spec("inscription.login", "anonyme", "/inscription/", form_of(fields("code", "password"))),
    Spec("inscription.identite", "poste", "/inscription/etape/identite", form_of(fields(*IDENTITE))),
    Spec("inscription.contact", "poste", "/inscription/etape/contact", form_of(fields(*CONTACT)),
         before=school_steps("contact")),
    Spec("inscription.specialite", "poste", "/inscription/etape/specialite", form_of(fields("specialite")),
         before=school_steps("specialite")),
    Spec("inscription.forme", "poste", "/inscription/etape/forme",
         form_of(fields("forme", "section_europeenne")),
         before=school_steps("forme")),
    Spec("inscription.recapitulatif", "poste", "/inscription/recapitulatif", form_of({}),
         before=school_steps("recapitulatif")),
    # public registration
    Spec("public.identite", "anonyme", "/public/inscription/identite", form_of(fields(*IDENTITE))),
    Spec("public.contact", "anonyme", "/public/inscription/contact", form_of(fields(*CONTACT)),
         before=public_steps("contact")),
    Spec("public.specialite", "anonyme", "/public/inscription/specialite", form_of(fields("specialite")),
         before=public_steps("specialite")),
    Spec("public.recapitulatif", "anonyme", "/public/inscription/recapitulatif",
         with_pair({}, "secret", "secret_confirmation"),
         before=public_steps("recapitulatif")),
    Spec("public.login", "anonyme", "/public/connexion", form_of(fields("numero", "date_naissance", "secret"))),
    Spec("public.verifier", "anonyme", "/public/verifier", form_of(fields("code")), method="GET"),
    Spec("public.modification", "candidat", lambda w: f"/public/inscriptions/{w.ids['public'].id}/modifier/identite",
         form_of(fields(*IDENTITE)),
         before=lambda w, c: c.post(f"/public/inscriptions/{w.ids['public'].id}/modifier")),
    # manager service
    Spec("gestionnaire.login", "anonyme", "/gestionnaire/connexion", form_of(fields("email", "password"))),
    Spec("gestionnaire.change_password", "admin", "/gestionnaire/mot-de-passe",
         with_pair(fields("current_password"), "new_password", "confirmation")),
    Spec("gestionnaire.reauthentification", "admin", "/gestionnaire/reauthentification",
         form_of(fields("password"))),
    Spec("gestionnaire.create_compte", "admin", "/gestionnaire/comptes/nouveau",
         form_of(fields("email", "nom", "role", "password"))),
    Spec("gestionnaire.reset_compte_password", "admin",
         lambda w: f"/gestionnaire/comptes/{w.ids['other'].id}/mot-de-passe", form_of(fields("password"))),
    Spec("gestionnaire.create_session", "admin", "/gestionnaire/sessions/nouvelle",
         form_of(fields("annee", "libelle", "academie", "date_examen", "texte_accueil", "texte_confirmation",
                        "courante"))),
    Spec("gestionnaire.edit_session", "admin", lambda w: f"/gestionnaire/sessions/{w.ids['session'].id}",
         form_of(fields("annee", "libelle", "academie", "date_examen", "texte_accueil", "texte_confirmation",
                        "courante"))),
    Spec("gestionnaire.calendrier", "admin", "/gestionnaire/calendrier/public/CAP",
         form_of(fields("ouvert", "debut", "fin", "fin_tardive"))),
    Spec("gestionnaire.calendrier_global", "admin", "/gestionnaire/calendrier/etablissement/global",
         form_of(fields("ouvert", "debut", "fin", "fin_tardive"))),
    Spec("gestionnaire.autorisations", "admin", "/gestionnaire/autorisations-tardives",
         form_of(fields("nom", "prenom", "date_naissance", "examen", "service", "etablissement", "motif",
                        examen=st.sampled_from(["CAP", "BCP", "", "XX"]) | TEXT))),
    Spec("gestionnaire.laissez_passer", "admin", lambda w: f"/gestionnaire/eleves/{w.ids['eleve'].id}/laissez-passer",
         form_of(fields("motif", "retour"))),
    Spec("gestionnaire.verrou", "admin", "/gestionnaire/verrou", form_of(fields("motif"))),
    Spec("gestionnaire.jetons_api", "admin", "/gestionnaire/jetons-api", form_of(fields("nom")),
         succeeded=lambda r: 'id="nouveau-jeton"' in r.get_data(as_text=True)),
    Spec("gestionnaire.reset_etablissement", "admin",
         lambda w: f"/gestionnaire/etablissements/{w.ids['autre'].code}/mots-de-passe",
         form_of(fields("confirmation"))),
    Spec("gestionnaire.journal", "admin", "/gestionnaire/journal",
         form_of(fields("etablissement", "candidat", "acteur", "action", "du", "au", "page")), method="GET"),
    Spec("gestionnaire.etablissements", "admin", "/gestionnaire/etablissements",
         form_of(fields("q", "tri", "page")), method="GET"),
    Spec("gestionnaire.liste_laissez_passer", "admin", "/gestionnaire/laissez-passer",
         form_of(fields("etablissement", "page")), method="GET"),
    Spec("gestionnaire.catalogue", "admin", "/gestionnaire/catalogue", form_of(fields("examen", "statut", "page")),
         method="GET"),
    Spec("gestionnaire.echanges", "admin", "/gestionnaire/echanges", form_of(fields("type", "etat", "page")),
         method="GET"),
]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_form_never_fails_and_never_half_writes(app, world, spec):
    http = world.clients[spec.kind]
    url = _url(spec, world)

    @SETTINGS
    @given(data=spec.data)
    def run(data):
        limiter.reset()
        if spec.before:
            spec.before(world, http)
        before = row_counts()
        if spec.method == "GET":
            response = http.get(url, query_string=data)
        else:
            response = http.post(url, data=data)
        check(response, before, f"{spec.method} {url} {data!r:.300}", spec.succeeded)

    run()


# --- path segments -----------------------------------------------------------------------

PATHS = [
    ("anonyme", "/public/inscription/{}"),
    ("poste", "/inscription/etape/{}"),
    ("chef", "/etablissement/listes/{}"),
    ("chef", "/etablissement/listes/{}/csv"),
    ("admin", "/gestionnaire/etablissements/{}"),
    ("admin", "/gestionnaire/chargements/{}"),
    ("admin", "/gestionnaire/calendrier/public/{}"),
    ("admin", "/gestionnaire/calendrier/{}/global"),
]
CATALOGUE_ACTIONS = st.one_of(TEXT, st.sampled_from(["publier", "pret", "retirer", "automatique"]))


@pytest.mark.parametrize(("kind", "pattern"), PATHS, ids=[p for _, p in PATHS])
def test_path_segments_never_fail(app, world, kind, pattern):
    http = world.clients[kind]

    @settings(SETTINGS, max_examples=20)
    @given(segment=TEXT)
    def run(segment):
        before = row_counts()
        response = http.get(pattern.format(quote(segment[:2000], safe="")))
        check(response, before, f"GET {pattern} {segment!r:.200}")

    run()


def test_catalogue_actions_never_fail(app, world):
    http = world.clients["admin"]

    @settings(SETTINGS, max_examples=20)
    @given(action=CATALOGUE_ACTIONS, ident=st.integers(min_value=0, max_value=2**31))
    def run(action, ident):
        ident = world.ids["cap"].id if ident % 2 else ident
        before = row_counts()
        response = http.post(f"/gestionnaire/catalogue/{ident}/{quote(action[:2000], safe='')}")
        check(response, before, f"catalogue {ident} {action!r:.200}")

    run()


def test_forged_registration_fields_are_ignored(app, world):
    """Mass assignment (item 17): extra fields never reach the registration."""
    http = world.clients["poste"]
    school_steps("recapitulatif")(world, http)
    response = http.post("/inscription/recapitulatif", data={
        "etablissement_id": world.ids["autre"].id, "numero": "999", "statut": "annulee", "source": "public",
        "session_id": "999", "version": "7"})
    assert response.status_code == 302
    inscription = db.session.scalars(select(Inscription).order_by(Inscription.id.desc())).first()
    assert inscription.etablissement_id == world.ids["etab"].id
    assert (inscription.statut, inscription.source, inscription.version) == ("active", "etablissement", 0)
    assert inscription.numero != 999
