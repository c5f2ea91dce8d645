"""sqlmap on every search, sort and filter parameter and on the four login forms
(SECURITY item 22): nothing is injectable.

Bounded: level 1, risk 1, 5 s per request, no retry, at most 90 s per run (120 s for a
login form, where each attempt is two requests: the form for a fresh CSRF token, then the
POST), three runs at a time (the server has two workers). The parameters are the search,
sort and filter parameters the views read from ``request.args`` (plus the path segments
that select a row), each tested where it is read, as the visitor allowed to reach it;
``page`` is left out (pagination, read as an integer by ``request.args.get(type=int)``).

The throttles are not weakened for the scan. The login forms count failures per account
and address (5 in 15 minutes), per account (20 or 30 an hour) and per address (60 or 100
an hour), in each worker's memory; the public verification allows 30 requests a minute.
Once a login's account is blocked, its answers switch between the form (200) and the
throttle (429) depending on the worker: sqlmap then compares "true" and "false" pages
that differ for a reason unrelated to its payload (seen: the password field, which is
only ever hashed, announced as a boolean-based blind candidate). So each login form is
scanned in two runs, as an attacker would: the account field alone, then the secret
fields with the account value changed at every request (``--randomize``), so that
answers stay comparable until the per-address budget is spent; the 429 answers met are
printed. Every run must have reached the parameter handling: answers other than 429, no
400 (stale CSRF token), no redirection to a login page.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests

from .tools import SqlmapRun, progress, run_sqlmap, tool_missing

pytestmark = [pytest.mark.dast, pytest.mark.timeout(900)]

PARALLEL_RUNS = 3
REDIRECT_TO_LOGIN = re.compile(r"redirect to '[^']*connexion")


@dataclass(frozen=True)
class Target:
    role: str
    path: str  # "{specialite}" is replaced by one of the head's specialties
    params: tuple[str, ...]
    data: str | None = None  # a login form (POST, with a fresh CSRF token per request)
    randomize: str | None = None  # a field given a new random value at each request


SEARCH_TARGETS = {
    "gestionnaire-etablissements": Target("gestionnaire", "/gestionnaire/etablissements?q=lyc&tri=nom",
                                          ("q", "tri")),
    "gestionnaire-fiche-etablissement": Target("gestionnaire", "/gestionnaire/etablissements/0690041V*",
                                               ("#1*",)),
    "gestionnaire-journal-qui": Target("gestionnaire", "/gestionnaire/journal?etablissement=0690041V"
                                       "&candidat=martin&acteur=gestionnaire",
                                       ("etablissement", "candidat", "acteur")),
    "gestionnaire-journal-quoi": Target("gestionnaire", "/gestionnaire/journal?action=etablissement.connexion"
                                        "&du=01/09/2026&au=31/12/2027", ("action", "du", "au")),
    "gestionnaire-catalogue": Target("gestionnaire", "/gestionnaire/catalogue?examen=BCP&statut=publie",
                                     ("examen", "statut")),
    "gestionnaire-laissez-passer": Target("gestionnaire",
                                          "/gestionnaire/laissez-passer?etablissement=0690041V",
                                          ("etablissement",)),
    "gestionnaire-echanges": Target("gestionnaire", "/gestionnaire/echanges?type=eleves&etat=succes",
                                    ("type", "etat")),
    "etablissement-liste": Target("etablissement", "/etablissement/listes/specialite?specialite={specialite}"
                                  "&annulees=exclure", ("specialite", "annulees")),
    "etablissement-liste-type": Target("etablissement", "/etablissement/listes/alphabetique*", ("#1*",)),
    "etablissement-validation": Target("etablissement", "/etablissement/validation?specialite={specialite}",
                                       ("specialite",)),
    "public-verification": Target("anonyme", "/public/verifier?code=ABCD-EFGH-JKLM", ("code",)),
    "api-inscriptions": Target("api", "/api/v1/inscriptions?since=0&limit=10", ("since", "limit")),
}
LOGIN_FORMS = {
    # name: (form page, POST data, account field, secret fields)
    "etablissement": ("/etablissement/connexion", "code=0699999Z&password=Mauvais-mot-de-passe",
                      "code", ("password",)),
    "gestionnaire": ("/gestionnaire/connexion", "email=personne@ac-demo.fr&password=Mauvais-mot-de-passe",
                     "email", ("password",)),
    "poste-inscription": ("/inscription/", "code=0699999Z&password=Mauvais-mot-de-passe", "code",
                          ("password",)),
    "candidat": ("/public/connexion", "numero=1&date_naissance=01/01/2008&secret=Mauvais-secret", "numero",
                 ("date_naissance", "secret")),
}
LOGIN_TARGETS = {
    **{f"login-{name}-compte": Target("anonyme", path, (account,), data=f"{data}&csrf_token=")
       for name, (path, data, account, _secrets) in LOGIN_FORMS.items()},
    **{f"login-{name}-secret": Target("anonyme", path, secrets, data=f"{data}&csrf_token=", randomize=account)
       for name, (path, data, account, secrets) in LOGIN_FORMS.items()},
}


def _anonymous_cookie(url: str) -> str:
    """The session cookie a visitor gets with the login form (its CSRF token lives there)."""
    http = requests.Session()
    http.get(url, timeout=30)
    return "; ".join(f"{name}={value}" for name, value in http.cookies.get_dict().items())


def _run(live, name: str, target: Target) -> SqlmapRun:
    url = live.url + target.path.format(specialite=live.specialite_id)
    options = {"params": target.params}
    if target.role == "api":
        options["headers"] = f"Authorization: Bearer {live.api_token}"
    elif target.role != "anonyme":
        options["cookie"] = live.cookie_header(target.role)
    if target.data is not None:
        options.update(data=target.data, csrf_url=url, cookie=_anonymous_cookie(url),
                       randomize=target.randomize)
    timeout = 120 if target.data is not None else 90
    run = run_sqlmap(name, url, live.workdir / "sqlmap", timeout=timeout, **options)
    progress(run.summary())
    return run


@pytest.fixture(scope="module")
def sqlmap_runs(live) -> dict[str, SqlmapRun]:
    if tool_missing("sqlmap"):
        pytest.fail("sqlmap est absent : make security l'installe (apt-get install sqlmap)")
    targets = {**LOGIN_TARGETS, **SEARCH_TARGETS}  # the slower login runs (one request at a time) first
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        futures = {name: pool.submit(_run, live, name, target) for name, target in targets.items()}
        return {name: future.result() for name, future in futures.items()}


def assert_nothing_injectable(run: SqlmapRun, target: Target) -> None:
    assert not run.timed_out, f"{run.name}: sqlmap did not finish in time\n{run.output[-3000:]}"
    assert run.returncode == 0, f"{run.name}: sqlmap failed\n{run.output[-3000:]}"
    assert run.findings == [], f"{run.name}: sqlmap reports\n" + "\n".join(run.findings)
    assert run.injection_points == []
    missing = set(target.params) - run.not_injectable
    assert not missing, f"{run.name}: no verdict for {sorted(missing)}\n{run.output[-3000:]}"
    assert not REDIRECT_TO_LOGIN.search(run.output), f"{run.name}: the session did not hold"


@pytest.mark.parametrize("name", sorted(SEARCH_TARGETS))
def test_search_sort_and_filter_parameters_are_not_injectable(sqlmap_runs, name):
    run, target = sqlmap_runs[name], SEARCH_TARGETS[name]
    assert_nothing_injectable(run, target)
    assert run.answers("GET", 200) > 0, run.summary()


@pytest.mark.parametrize("name", sorted(LOGIN_TARGETS))
def test_login_forms_are_not_injectable(sqlmap_runs, name):
    run, target = sqlmap_runs[name], LOGIN_TARGETS[name]
    assert_nothing_injectable(run, target)
    # Each POST carried a fresh CSRF token (no 400) and the first ones reached the form
    # handling (200: the form again, with its error); the throttle then answers 429.
    assert run.answers("POST", 200) > 0, run.summary()
    assert run.answers("POST", 400) == 0, run.summary()
    progress(f"{name}: POST answered 200 {run.answers('POST', 200)} times, 429 (throttle) "
             f"{run.answers('POST', 429)} times")
