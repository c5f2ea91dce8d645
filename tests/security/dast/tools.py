"""Running sqlmap and wapiti against the live server, and reading what they report.

Both tools exit 0 whatever they find: the verdict is read from their output (sqlmap's
log, with its terminal escape codes stripped, and its CSV of injection points; wapiti's
JSON report).
"""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Debian's wapiti lives in the system Python, not in the virtualenv.
SYSTEM_PYTHON = "/usr/bin/python3"
TOOL_ENV = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "LANGUAGE": "en", "TERM": "dumb"}

ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[()][A-Za-z0-9]|[=>])")


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


# --- sqlmap ------------------------------------------------------------------------------

# The live server runs on SQLite: payloads written for other engines (MySQL, Oracle, SQL
# Server, PostgreSQL) cannot succeed there and would triple the requests; the generic
# techniques (boolean-based blind, inline queries, UNION) are kept.
SQLMAP_BOUNDS = ("--batch", "--level", "1", "--risk", "1", "--timeout", "5", "--retries", "0",
                 "--flush-session", "--disable-coloring", "--dbms", "SQLite")
# sqlmap's findings: a confirmed injection point ("parameter 'x' is vulnerable", "sqlmap
# identified the following injection point(s)"), or a positive heuristic ("might be
# injectable", "might be vulnerable to cross-site scripting / file inclusion"). Its
# negative verdicts also say "injectable" ("does not seem to be injectable", "might not
# be injectable", ...). "appears to be '<technique>' injectable" is provisional: sqlmap
# then checks it for a false positive and, if so, ends with "does not seem to be
# injectable" for that parameter; such discarded candidates are listed apart.
NEGATIVE = re.compile(r"(?:not|n't) (?:seem to |appear to )?be injectable")
POSITIVE = re.compile(r"parameter '[^']*' (?:is vulnerable|might be (?:injectable|vulnerable))"
                      r"|identified the following injection point", re.I)
PROVISIONAL = re.compile(r"parameter '[^']*' appears to be .* injectable")
TESTED = re.compile(r"testing for SQL injection on (?:GET|POST|URI|\(custom\) \w+) parameter '([^']+)'")
NOT_INJECTABLE = re.compile(r"(?:GET|POST|URI|\(custom\) \w+) parameter '([^']+)' "
                            r"does not seem to be injectable")
HTTP_CODES = re.compile(r"^(\d{3}) \([^)]*\) - (\d+) times", re.M)
TRAFFIC_REQUEST = re.compile(r"^HTTP request \[#(\d+)\]:\n(.*?)(?=^HTTP re(?:quest|sponse) \[#)", re.M | re.S)
TRAFFIC_RESPONSE = re.compile(r"^HTTP response \[#(\d+)\] \((\d{3})[^)]*\)", re.M)


@dataclass
class SqlmapRun:
    name: str
    returncode: int | None
    output: str
    seconds: float
    injection_points: list[dict] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)  # (method, status) -> count, from the traffic log

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    @property
    def findings(self) -> list[str]:
        return [line for line in self.output.splitlines()
                if POSITIVE.search(NEGATIVE.sub("", line))]

    @property
    def discarded(self) -> list[str]:
        """Candidates sqlmap announced, then rejected as false positives."""
        return [line for line in self.output.splitlines() if PROVISIONAL.search(line)]

    @property
    def tested(self) -> set[str]:
        return set(TESTED.findall(self.output))

    @property
    def not_injectable(self) -> set[str]:
        return set(NOT_INJECTABLE.findall(self.output))

    @property
    def error_codes(self) -> dict[int, int]:
        """sqlmap's own summary of the HTTP errors it met ("429 (Too Many Requests) - 69 times")."""
        return {int(code): int(count) for code, count in HTTP_CODES.findall(self.output)}

    def answers(self, method: str, status: int) -> int:
        return self.statuses[(method, status)]

    def summary(self) -> str:
        statuses = ", ".join(f"{method} {code}: {n}" for (method, code), n in sorted(self.statuses.items()))
        discarded = f", {len(self.discarded)} false positives discarded by sqlmap" if self.discarded else ""
        return (f"sqlmap {self.name}: {self.seconds:.0f} s, responses {{{statuses}}}, "
                f"tested {sorted(self.tested)}{discarded}")


def run_sqlmap(name: str, url: str, workdir: Path, *, cookie: str | None = None, data: str | None = None,
               csrf_url: str | None = None, headers: str | None = None, params: tuple[str, ...] = (),
               randomize: str | None = None, timeout: int = 90) -> SqlmapRun:
    out = workdir / name
    out.mkdir(parents=True, exist_ok=True)
    traffic = out / "traffic.txt"
    argv = ["sqlmap", "-u", url, *SQLMAP_BOUNDS, "--output-dir", str(out), "-t", str(traffic)]
    if cookie:
        argv += ["--cookie", cookie]
    if headers:
        argv += ["--headers", headers]
    if params:
        argv += ["-p", ",".join(params)]
    if randomize:
        argv += ["--randomize", randomize]
    if data is not None:
        argv += ["--data", data]
    if csrf_url:
        # sqlmap refuses --threads with --csrf-url: one request at a time, a fresh token each.
        argv += ["--csrf-token", "csrf_token", "--csrf-url", csrf_url]
    else:
        argv += ["--threads", "2"]
    start = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=TOOL_ENV,
                              stdin=subprocess.DEVNULL)
        returncode, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        returncode = None
        output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    run = SqlmapRun(name, returncode, strip_ansi(output), time.monotonic() - start)
    run.injection_points = _sqlmap_csv_rows(out)
    if traffic.exists():
        run.statuses = traffic_statuses(traffic.read_text(errors="replace"))
    (out / "sqlmap.log").write_text(run.output)
    return run


def traffic_statuses(traffic: str) -> Counter:
    """How many answers of each status each method got, from sqlmap's ``-t`` traffic log.

    The log writes "POST" even for the GET of the CSRF page: a request is a POST when it
    carries a body."""
    methods = {number: "POST" if re.search(r"^content-length:", block, re.M | re.I) else "GET"
               for number, block in TRAFFIC_REQUEST.findall(traffic)}
    return Counter((methods.get(number, "?"), int(status))
                   for number, status in TRAFFIC_RESPONSE.findall(traffic))


def _sqlmap_csv_rows(out: Path) -> list[dict]:
    """The injection points listed in sqlmap's CSV of results (header only when none)."""
    rows = []
    for path in out.glob("results-*.csv"):
        with open(path, newline="") as handle:
            rows += [row for row in csv.DictReader(handle) if any(row.values())]
    return rows


# --- wapiti ------------------------------------------------------------------------------

WAPITI_MODULES = "sql,xss,exec,file,crlf,redirect,csrf,http_headers,cookieflags,csp,permanentxss"
LEVELS = {1: "low", 2: "medium", 3: "high", 4: "critical"}


@dataclass
class WapitiFinding:
    kind: str  # vulnerabilities / anomalies / additionals
    category: str
    level: int
    method: str
    path: str
    parameter: str
    info: str

    def __str__(self) -> str:
        return (f"[{LEVELS.get(self.level, self.level)}] {self.category}: {self.method} {self.path} "
                f"{self.parameter!r} {self.info}")


@dataclass
class WapitiRun:
    role: str
    returncode: int | None
    output: str
    seconds: float
    report: dict | None

    @property
    def findings(self) -> list[WapitiFinding]:
        found = []
        for kind in ("vulnerabilities", "anomalies", "additionals"):
            for category, items in ((self.report or {}).get(kind) or {}).items():
                for item in items:
                    found.append(WapitiFinding(kind, category, int(item.get("level") or 0),
                                               item.get("method", ""), item.get("path", ""),
                                               item.get("parameter", ""), item.get("info", "")))
        return found

    @property
    def crawled(self) -> list[str]:
        """Requests the crawler and the attack modules announced (refused POSTs included)."""
        return re.findall(r"^\[\+\] ((?:GET|POST) \S+)", self.output, re.M)

    @property
    def refused(self) -> set[str]:
        """URLs of the POSTs the scan policy kept from being sent."""
        return set(re.findall(r"^\[refused POST\] (\S+)", self.output, re.M))


def write_wapiti_cookies(path: Path, cookies: dict[str, str]) -> Path:
    """wapiti's JSON cookie file: {domain: {path: {name: attributes}}}.

    ``secure`` is false because the live server speaks plain http (a Secure cookie would
    never be sent back to it)."""
    jar = {"127.0.0.1": {"/": {name: {"value": value, "expires": None, "secure": False, "port": None,
                                      "version": 0} for name, value in cookies.items()}}}
    path.write_text(json.dumps(jar))
    return path


def run_wapiti(role: str, start_url: str, workdir: Path, *, cookies: dict[str, str] | None = None,
               exclude: tuple[str, ...] = (), refuse_post: tuple[str, ...] = (),
               allow_post: tuple[str, ...] = (),
               crawl_seconds: int = 45, attack_seconds: int = 10, timeout: int = 300) -> WapitiRun:
    out = workdir / f"wapiti-{role}"
    out.mkdir(parents=True, exist_ok=True)
    report = out / "report.json"
    argv = [SYSTEM_PYTHON, str(HERE / "wapiti_guarded.py"), "-u", start_url, "--scope", "folder",
            "-m", WAPITI_MODULES, "--max-scan-time", str(crawl_seconds),
            "--max-attack-time", str(attack_seconds),
            "-d", "4", "-t", "10", "--flush-session", "--no-bugreport", "-v", "1",
            "--store-session", str(out / "session"), "--store-config", str(out / "config"),
            "-f", "json", "-o", str(report)]
    if cookies:
        argv += ["-c", str(write_wapiti_cookies(out / "cookies.json", cookies))]
    for pattern in exclude:
        argv += ["-x", pattern]
    for pattern in refuse_post:
        argv += ["--refuse-post", pattern]
    for pattern in allow_post:
        argv += ["--allow-post", pattern]
    start = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=TOOL_ENV,
                              stdin=subprocess.DEVNULL)
        returncode, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        returncode = None
        output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    output = strip_ansi(output)
    (out / "wapiti.log").write_text(output)
    parsed = json.loads(report.read_text()) if report.exists() else None
    return WapitiRun(role, returncode, output, time.monotonic() - start, parsed)


def tool_missing(name: str) -> bool:
    from shutil import which

    if name == "wapiti":
        return which("wapiti") is None or not Path(SYSTEM_PYTHON).exists()
    return which(name) is None


def progress(message: str) -> None:
    """Durations and counts, visible with -s and in CI logs."""
    print(message, file=sys.stderr, flush=True)
