"""How the DAST suite reads sqlmap and wapiti (fast, part of ``make test``): a finding is
never mistaken for a clean verdict, and the reverse."""
from __future__ import annotations

from collections import Counter

from .tools import SqlmapRun, WapitiRun, strip_ansi, traffic_statuses
from .wapiti_guarded import _split_args, wildcard_translate

CLEAN = """\x1b[?1049h\x1b[22;0;0t[17:31:36] [INFO] testing if GET parameter 'q' is dynamic
[17:31:36] [WARNING] target URL content is not stable (i.e. content differs). If no dynamic nor injectable \
parameters are detected, or in case of junk results, refer to user's manual paragraph 'Page comparison'
[17:31:37] [WARNING] heuristic (basic) test shows that GET parameter 'q' might not be injectable
[17:31:37] [INFO] testing for SQL injection on GET parameter 'q'
[17:31:41] [WARNING] GET parameter 'q' does not seem to be injectable
[17:31:48] [ERROR] all tested parameters do not appear to be injectable. Try to increase values for '--level'
"""
DISCARDED = """[18:03:20] [INFO] testing for SQL injection on POST parameter 'password'
[18:03:25] [INFO] POST parameter 'password' appears to be 'AND boolean-based blind - WHERE or HAVING clause' \
injectable
[18:03:26] [INFO] checking if the injection point on POST parameter 'password' is a false positive
[18:03:27] [WARNING] false positive or unexploitable injection point detected
[18:03:27] [WARNING] POST parameter 'password' does not seem to be injectable
"""
FINDINGS = [
    "[INFO] heuristic (basic) test shows that GET parameter 'id' might be injectable (possible DBMS: 'x')",
    "[INFO] heuristic (XSS) test shows that GET parameter 'q' might be vulnerable to cross-site scripting",
    "GET parameter 'id' is vulnerable. Do you want to keep testing the others (if any)? [y/N] N",
    "sqlmap identified the following injection point(s) with a total of 46 HTTP(s) requests:",
]


def test_clean_sqlmap_output_has_no_finding_and_a_verdict_per_parameter():
    run = SqlmapRun("x", 0, strip_ansi(CLEAN), 1.0)
    assert run.findings == [] and run.discarded == []
    assert run.tested == {"q"} and run.not_injectable == {"q"}
    assert "\x1b" not in run.output


def test_candidate_discarded_by_sqlmap_is_not_a_finding():
    run = SqlmapRun("x", 0, DISCARDED, 1.0)
    assert run.findings == []
    assert len(run.discarded) == 1 and run.not_injectable == {"password"}


def test_confirmed_points_and_positive_heuristics_are_findings():
    run = SqlmapRun("x", 0, CLEAN + "\n".join(FINDINGS), 1.0)
    assert run.findings == FINDINGS


def test_traffic_log_tells_the_csrf_page_from_the_post():
    traffic = ("HTTP request [#1]:\nPOST /etablissement/connexion HTTP/1.1\nCookie: s=1\n\n"
               "HTTP response [#1] (200 OK):\nServer: x\n\n"
               "HTTP request [#2]:\nPOST /etablissement/connexion HTTP/1.1\nContent-length: 43\n\ncode=1\n\n"
               "HTTP response [#2] (429 TOO MANY REQUESTS):\nServer: x\n\n")
    assert traffic_statuses(traffic) == Counter({("GET", 200): 1, ("POST", 429): 1})


def test_wapiti_findings_carry_their_level():
    report = {"vulnerabilities": {"Secure Flag cookie": [
        {"method": "GET", "path": "/", "info": "Secure flag is not set in the cookie : session", "level": 1,
         "parameter": ""}]},
        "anomalies": {"Internal Server Error": [
            {"method": "GET", "path": "/journal", "info": "500", "level": 3, "parameter": "du"}]},
        "additionals": {}}
    findings = WapitiRun("anonyme", 0, "", 1.0, report).findings
    assert [(f.kind, f.category, f.level) for f in findings] == [
        ("vulnerabilities", "Secure Flag cookie", 1), ("anomalies", "Internal Server Error", 3)]


def test_post_guard_patterns_and_arguments():
    refused, allowed, rest = _split_args(["--refuse-post", "http://h/gestionnaire/*", "-u", "http://h/",
                                          "--allow-post", "http://h/gestionnaire/connexion",
                                          "-x", "http://h/s/*"])
    assert rest == ["-u", "http://h/", "-x", "http://h/s/*"]
    assert refused[0].match("http://h/gestionnaire/verrou") and not refused[0].match("http://h/public/")
    assert allowed[0].match("http://h/gestionnaire/connexion")
    assert not allowed[0].match("http://h/gestionnaire/connexion/x")
    literal = wildcard_translate("http://h/a.b")
    assert literal.match("http://h/a.b") and not literal.match("http://h/aXb")
