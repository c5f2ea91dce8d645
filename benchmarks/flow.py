"""A client of the in-school registration flow, as a pupil at a school computer uses it.

The client reads each step page's form (fields, radio and select options, CSRF token)
and fills it from a synthetic candidate, so it follows the flow as the portal serves it:
``/inscription/`` opens the computer, then the step pages up to the review page, whose
POST creates the registration and redirects to ``/confirmation``.

Two ways to drive it:
- ``walk``: every page (GET each step, POST it, the review page, the confirmation page,
  then "Nouvelle inscription"), the way a pupil does (P6);
- ``replay``: only the POSTs of the steps, with the values a first ``walk`` discovered and
  the candidate's own identity (P2: the rate of complete registration POST sequences).

``drive`` runs many clients in separate processes for a bounded time or count.
"""

from __future__ import annotations

import multiprocessing
import re
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

from benchmarks.common import Context, bench_app, demo_available, live_server
from benchmarks.seed import ETAB_CODE, ETAB_PASSWORD, candidate, create_world

TEXT_TYPES = {"text", "email", "tel", "date", "password", "number", "search", "url", ""}
PREFERRED = {"section_europeenne": "non", "statut": "scolaire"}


class FlowError(Exception):
    pass


# --- reading forms --------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    inputs: list[dict] = field(default_factory=list)
    selects: dict[str, list[str]] = field(default_factory=dict)

    def names(self) -> set[str]:
        return {i["name"] for i in self.inputs if i.get("name")} | set(self.selects)


class FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self.errors: list[str] = []
        self._in_error = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = Form(a.get("action") or "", (a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "button") and a.get("name"):
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            self._form.inputs.append(
                {"name": a["name"], "type": kind, "value": a.get("value") or "", "checked": "checked" in a}
            )
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form.selects[self._select] = []
        elif self._form is not None and tag == "option" and self._select is not None:
            self._form.selects[self._select].append(a.get("value") or "")
        elif tag == "textarea" and self._form is not None and a.get("name"):
            self._form.inputs.append({"name": a["name"], "type": "text", "value": "", "checked": False})
        if "fr-error-text" in (a.get("class") or "") or "fr-message--error" in (a.get("class") or ""):
            self._in_error = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag in ("p", "span", "div"):
            self._in_error = False

    def handle_data(self, data):
        if self._in_error and data.strip():
            self.errors.append(data.strip())


def parse(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


FORM_TAG_RE = re.compile(r"<(/?)(form|input|button|select|option|textarea)\b([^>]*)>", re.I)
ATTRIBUTE_RE = re.compile(r"""([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")


def parse_forms(html: str) -> FormParser:
    """The forms of a page, read from their tags only. The client reads a form on every
    page: the pure-Python HTML parser took 3 ms for a 14 KB step page, as much CPU as the
    server spends rendering it, on the cores the server shares with the load generator.
    Matching the few form tags costs a tenth of that and gives the same forms."""
    parser = FormParser()
    for match in FORM_TAG_RE.finditer(html):
        closing, tag, attributes = match.groups()
        tag = tag.lower()
        if closing:
            parser.handle_endtag(tag)
            continue
        attrs = [(name.lower(), unescape(dq or sq or bare)) for name, dq, sq, bare in ATTRIBUTE_RE.findall(attributes)]
        parser.handle_starttag(tag, attrs)
    return parser


def main_form(page: FormParser, url: str) -> Form:
    """The step's form: a POST form to this very page (the header's forms post elsewhere)."""
    path = urlsplit(url).path
    for form in page.forms:
        if form.method == "post" and (not form.action or urlsplit(urljoin(url, form.action)).path == path):
            return form
    raise FlowError(f"no form posting to {path}")


def fill(form: Form, person: dict) -> dict[str, str]:
    """Values to post: the candidate's where the field is one of theirs, otherwise the
    preferred or first offered choice; hidden fields (CSRF token) as they are."""
    data: dict[str, str] = {}
    radios: dict[str, list[str]] = {}
    for field_ in form.inputs:
        name, kind = field_["name"], field_["type"]
        if kind == "hidden":
            data[name] = field_["value"]
        elif kind == "radio":
            radios.setdefault(name, []).append(field_["value"])
        elif kind == "checkbox":
            if field_["checked"]:
                data[name] = field_["value"] or "y"
        elif kind in TEXT_TYPES:
            value = person.get(name, field_["value"])
            data[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    for name, options in [*radios.items(), *form.selects.items()]:
        options = [o for o in options if o != ""]
        wanted = str(person.get(name, PREFERRED.get(name, "")))
        if options:
            data[name] = wanted if wanted in options else options[0]
    return data


# --- one client -----------------------------------------------------------------------


@dataclass
class Stats:
    completed: int = 0
    errors: int = 0
    requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    first_errors: list[str] = field(default_factory=list)

    def merge(self, other: "Stats") -> None:
        self.completed += other.completed
        self.errors += other.errors
        self.requests += other.requests
        self.latencies_ms += other.latencies_ms
        self.first_errors += other.first_errors[: max(0, 5 - len(self.first_errors))]


class Headers:
    """Response headers by case-insensitive name (what the clients read: Location,
    Set-Cookie, Content-Type)."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self._pairs = pairs

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        return next((value for key, value in self._pairs if key == name), default)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self._pairs if key == name]


@dataclass
class Response:
    status_code: int
    headers: Headers
    text: str
    url: str


class Http:
    """The HTTP a client needs (one server, its cookies, urlencoded forms, no redirects
    followed), written on a socket: one HTTP/1.0 request per connection, the answer read to
    the close, as gunicorn's sync workers close every connection anyway. The clients share
    the two cores with the server: ``requests`` took about 1.5 ms of CPU per request,
    ``http.client`` (its header parsing goes through the ``email`` package) about half a
    millisecond; this about a third of that."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, data: dict | None = None, timeout: float = 60) -> Response:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = [f"{method} {target} HTTP/1.0", f"Host: {self.host}:{self.port}"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = b""
        if data is not None:
            body = urlencode(data).encode()
            head.append("Content-Type: application/x-www-form-urlencoded")
        if data is not None or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        chunks = []
        with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            while chunk := sock.recv(262144):
                chunks.append(chunk)
        raw_head, separator, content = b"".join(chunks).partition(b"\r\n\r\n")
        status_line, *lines = raw_head.decode("latin-1").split("\r\n")
        if not separator or not status_line.startswith("HTTP/"):
            raise FlowError(f"{method} {target}: incomplete answer ({len(raw_head)} bytes)")
        headers = Headers([(name.strip().lower(), value.strip())
                           for name, _, value in (line.partition(":") for line in lines)])
        for header in headers.get_all("Set-Cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=thu, 01 jan 1970" in header.lower() or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        return Response(int(status_line.split(" ", 2)[1]), headers, content.decode("utf-8", "replace"), url)


class Client:
    """One school computer: a cookie session opened with the registration password."""

    def __init__(self, base_url: str, code: str, password: str, stats: Stats | None = None):
        self.base = base_url.rstrip("/")
        self.http = Http(self.base)
        self.stats = stats or Stats()
        self.code, self.password = code, password

    def request(self, method: str, path: str, **kwargs) -> Response:
        start = time.perf_counter()
        response = self.http.request(method, urljoin(self.base + "/", path.lstrip("/")), **kwargs)
        self.stats.latencies_ms.append((time.perf_counter() - start) * 1000)
        self.stats.requests += 1
        if response.status_code >= 400:
            raise FlowError(f"{method} {path}: HTTP {response.status_code}")
        return response

    def open_computer(self) -> str:
        """Log the computer in; returns the path of the flow's first step."""
        page = self.request("GET", "/inscription/")
        form = main_form(parse_forms(page.text), page.url)
        data = fill(form, {"code": self.code, "password": self.password})
        response = self.request("POST", "/inscription/", data=data)
        if response.status_code != 302:
            raise FlowError(f"the school computer did not open: {parse(response.text).errors[:2]}")
        return urlsplit(response.headers["Location"]).path

    def walk(self, first_step: str, person: dict, *, every_page: bool = True,
             stop_before_last: bool = False) -> list[tuple[str, dict]]:
        """One registration through the pages; returns the (path, data) posted. With
        ``stop_before_last`` the review page is read but not posted (its data comes last)."""
        posted, path = [], first_step
        for _ in range(12):
            page = self.request("GET", path)
            form = main_form(parse_forms(page.text), page.url)
            data = fill(form, person)
            if stop_before_last and path.rstrip("/").endswith("/recapitulatif"):
                return posted + [(path, data)]
            response = self.request("POST", path, data=data)
            posted.append((path, data))
            if response.status_code != 302:
                raise FlowError(f"POST {path} refused: {parse(response.text).errors[:3]}")
            location = urlsplit(response.headers["Location"]).path
            if location.rstrip("/").endswith("/confirmation"):
                if every_page:
                    self.request("GET", location)
                    self.new_pupil(data.get("csrf_token", ""))
                return posted
            path = location
        raise FlowError("the flow did not reach the confirmation page")

    def new_pupil(self, token: str) -> None:
        self.request("POST", "/inscription/nouvelle", data={"csrf_token": token})

    def replay(self, script: list[tuple[str, dict]], person: dict) -> None:
        """Only the POSTs of a registration, the candidate's identity in place of the
        discovered one; the CSRF token of the computer's session is reused."""
        for index, (path, data) in enumerate(script):
            values = {
                k: _text(person[k]) if k in person and k != "csrf_token" else v for k, v in data.items()
            }
            response = self.request("POST", path, data=values)
            expected_last = index == len(script) - 1
            location = response.headers.get("Location", "")
            if response.status_code != 302 or (
                expected_last and not location.rstrip("/").endswith("/confirmation")
            ):
                raise FlowError(f"POST {path}: HTTP {response.status_code} {parse(response.text).errors[:3]}")


def _text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


# --- many clients ---------------------------------------------------------------------


@dataclass
class Plan:
    base_url: str
    code: str
    password: str
    mode: str  # "walk", "replay" or "insert" (the anchor route, same client)
    first_candidate: int
    count: int  # registrations in all
    processes: int
    seconds: float  # time bound


def _client_process(plan: Plan, index: int, ready, start, queue) -> None:
    stats = Stats()
    try:
        client = Client(plan.base_url, plan.code, plan.password, stats)
        first_step = client.open_computer() if plan.mode != "insert" else ""
        script = None
        if plan.mode == "replay":
            script = client.walk(
                first_step, candidate(plan.first_candidate + 10_000_000 + index), every_page=False
            )
        stats.latencies_ms.clear()
        stats.requests = 0
    except Exception as exc:  # noqa: BLE001
        stats.errors += 1
        stats.first_errors.append(f"setup: {exc}")
        ready.release()
        queue.put(stats)
        return
    ready.release()
    start.wait()
    deadline = time.time() + plan.seconds
    for n in range(plan.first_candidate + index, plan.first_candidate + plan.count, plan.processes):
        if time.time() >= deadline:
            break
        try:
            if plan.mode == "walk":
                client.walk(first_step, candidate(n))
            elif plan.mode == "insert":
                client.request("POST", "/bench/insert")
            else:
                client.replay(script, candidate(n))
            stats.completed += 1
        except Exception as exc:  # noqa: BLE001
            stats.errors += 1
            if len(stats.first_errors) < 5:
                stats.first_errors.append(str(exc)[:300])
    queue.put(stats)


@dataclass
class DriveResult:
    stats: Stats
    seconds: float

    @property
    def rate(self) -> float:
        return self.stats.completed / self.seconds if self.seconds else 0.0

    def percentile(self, pct: float) -> float | None:
        values = sorted(self.stats.latencies_ms)
        if not values:
            return None
        return values[min(len(values) - 1, int(round(pct / 100 * (len(values) - 1))))]


def drive(plan: Plan) -> DriveResult:
    """Run ``plan.processes`` clients (each its own process and school computer, logged in
    before the clock starts); stops after ``plan.count`` registrations or ``plan.seconds``."""
    context = multiprocessing.get_context("fork")
    queue, ready, start = context.Queue(), context.Semaphore(0), context.Event()
    workers = [
        context.Process(target=_client_process, args=(plan, i, ready, start, queue), daemon=True)
        for i in range(plan.processes)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        if not ready.acquire(timeout=300):
            raise FlowError("the clients did not get ready within 300 s")
    started = time.time()
    start.set()
    total = Stats()
    for _ in workers:
        total.merge(queue.get(timeout=plan.seconds + 600))
    ended = time.time()
    for worker in workers:
        worker.join(timeout=10)
    return DriveResult(total, max(0.001, ended - started))


@contextmanager
def registration_server(ctx: Context, name: str, **server):
    """A live server on the demo data (when ``flask demo-data`` exists) plus the bench
    establishment of ``seed.create_world`` (no pupil base, registration service open): log
    school computers in with ETAB_CODE / ETAB_PASSWORD. ``server``: options of
    ``live_server`` (another WSGI app, more environment)."""

    def prepare(url: str, _output: str) -> None:
        app = bench_app(url, create_schema=False)
        with app.app_context():
            create_world()
            from portal.extensions import db

            db.engine.dispose()

    with live_server(ctx, name, demo=demo_available(), prepare=prepare, **server) as live:
        yield live


def login_cookie(server) -> tuple[str, str]:
    """A school computer opened on ``server``: (Cookie header, path of the first step)."""
    client = Client(server.url, ETAB_CODE, ETAB_PASSWORD)
    first_step = client.open_computer()
    # The page once, as the pupil's browser shows it: its form puts the CSRF token in the
    # session, and the browser keeps the cookie that carries it. wrk replays one fixed
    # cookie: without the token, every request would create one and sign a new cookie.
    client.request("GET", first_step)
    cookie = "; ".join(f"{name}={value}" for name, value in client.http.cookies.items())
    return cookie, first_step


def shared_registration_server(ctx: Context):
    """The registration server of this database's run, started by the first row needing it
    (P1, P2 and P6 share it: the demo data is loaded once)."""
    return ctx.share("registration", lambda: registration_server(ctx, "registration"))
