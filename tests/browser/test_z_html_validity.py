"""Last of the browser tests: the server HTML of every page the journeys saw goes through the
Nu Html Checker (npm package vnu-jar, run with the machine's Java), all files at once."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.support.liveserver import ROOT

pytestmark = pytest.mark.browser

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# Messages accepted on purpose, each with its reason (all are "info" warnings, not errors).
# Nothing else may remain: every error and every other warning fails the test.
_DSFR_LANDMARKS = ("The DSFR markup repeats the implicit landmark role (header banner, main, footer "
                   "contentinfo, nav navigation) for assistive technologies that ignore HTML5 landmarks; "
                   "RGAA audits of DSFR sites expect it.")
ALLOWED: dict[str, str] = {
    "The “banner” role is unnecessary for element “header”.": _DSFR_LANDMARKS,
    "The “main” role is unnecessary for element “main”.": _DSFR_LANDMARKS,
    "The “contentinfo” role is unnecessary for element “footer”.": _DSFR_LANDMARKS,
    "The “navigation” role is unnecessary for element “nav”.": _DSFR_LANDMARKS,
    "The “group” role is unnecessary for element “fieldset”.":
        "DSFR's radio and checkbox groups (fr-fieldset) carry role=\"group\" so that the legend is "
        "announced with the options by every screen reader (DSFR markup, kept as published).",
}


def test_every_visited_page_is_valid_html(visits):
    java = shutil.which("java")
    if java is None or not VNU.exists():
        reason = "java introuvable" if java is None else f"{VNU} absent (make install)"
        if os.environ.get("CI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Validation HTML requise mais impossible : {reason}")
        pytest.skip(f"Validation HTML impossible : {reason}")
    if not visits.pages:
        pytest.skip("aucune page visitée dans cette exécution (journeys non sélectionnés)")
    result = subprocess.run([java, "-jar", str(VNU), "--format", "json", "--stdout",
                             *map(str, visits.pages)], capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stdout)["messages"]
    problems = [f"{m['url'].rsplit('/', 1)[-1]}:{m.get('lastLine', '?')}: {m['type']}: {m['message']}"
                for m in messages
                if m["type"] in ("error", "non-document-error") or m.get("subType") == "warning"
                if m["message"] not in ALLOWED]
    assert not problems, f"{len(problems)} message(s) du validateur sur {len(visits.pages)} pages :\n" + \
        "\n".join(problems)
