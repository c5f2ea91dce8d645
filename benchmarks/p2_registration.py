"""P2: complete registration POSTs per second against ``/bench/insert`` (one bare INSERT +
commit) in the same app and server (gunicorn ``-w 2`` sync), both loaded by wrk
(``-t2 -c50``) for the same time.

What is measured exactly: the POST of the review page (``/inscription/recapitulatif``),
the one request that registers a candidate: CSRF check, every step's form validated again
from the draft, every rule (calendar, published specialty, age, pupil base, form of
passage, European section), the lock check, the number, the inserts (candidate,
registration, version 0, audit event), the draft deleted, commit, redirect to the
confirmation. Each request registers a distinct candidate: before the clock starts, one
walk through the pages (a school computer opened with the registration password) gives
the computer's session and the values of each step; then one draft per candidate is
stored and its id signed into a copy of that session cookie, as the step POSTs would have
done. wrk cycles through those (cookie, body) pairs, each used once; a response counts as
a registration only when it redirects to the confirmation page.

``details`` add the rate of whole registrations through every step POST (the same client
replaying identity, contact, specialty, form and review POSTs), which the issue's row does
not ask for but shows what a pupil's whole flow costs.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path

from benchmarks.common import Context, bench_app, demo_available, http_load, make_result, wrk_path
from benchmarks.flow import Client, Plan, drive, shared_registration_server
from benchmarks.seed import ETAB_CODE, ETAB_PASSWORD, candidate

ROWS = ("P2",)
PROCESSES = 4
# Candidates of P2 and P6 never meet on the shared server.
FIRST_CANDIDATE = 5_000_000
REVIEW = "/inscription/recapitulatif"
# Fields of a draft's steps that identify the candidate (the rest is shared).
IDENTITY = {"identite": ("nom_naissance", "prenom1", "sexe", "date_naissance", "ine"), "contact": ("email",)}

WRK_SCRIPT = r"""
-- One prepared registration per request, never the same twice; counts the responses
-- that redirect to the confirmation page.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  requests_ = {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % tonumber(args[2]) == id then
      local cookie, body = line:match("^([^\t]*)\t(.*)$")
      table.insert(requests_, wrk.format("POST", args[3], {
        ["Cookie"] = cookie,
        ["Content-Type"] = "application/x-www-form-urlencoded",
      }, body))
    end
    n = n + 1
  end
  index, ok, bad, reused = 0, 0, 0, 0
end

function request()
  index = index + 1
  if index > #requests_ then
    reused = reused + 1
    index = 1
  end
  return requests_[index]
end

function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  if status == 302 and location:find("/confirmation") then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total_ok, total_bad, total_reused = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_bad = total_bad + thread:get("bad")
    total_reused = total_reused + thread:get("reused")
  end
  io.write(string.format("REGISTRATIONS ok=%d bad=%d reused=%d\n", total_ok, total_bad, total_reused))
end
"""


def wait_idle(base_url: str, timeout: float = 120.0) -> None:
    """Wait until the shared server answers promptly again: the sync workers still serve the
    requests a previous row's load left queued, which would otherwise eat into the anchor."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(base_url + "/bench/hello", timeout=timeout) as response:
                response.read()
        except OSError:
            time.sleep(0.2)
            continue
        if time.perf_counter() - start < 0.05:
            return


def prepare_registrations(server, count: int, workdir: Path) -> Path:
    """``count`` (cookie, review POST body) lines, one stored draft each."""
    from sqlalchemy import insert, select

    from portal.extensions import db
    from portal.models import Brouillon, new_token, utcnow

    client = Client(server.url, ETAB_CODE, ETAB_PASSWORD)
    first_step = client.open_computer()
    posted = client.walk(first_step, candidate(FIRST_CANDIDATE - 1), every_page=False, stop_before_last=True)
    review_path, review_data = posted[-1]
    if review_path != REVIEW:
        raise RuntimeError(f"the walk stopped at {review_path}, not at the review page")
    app = bench_app(server.database_url, create_schema=False, SECRET_KEY=server.env["SECRET_KEY"])
    serializer = app.session_interface.get_signing_serializer(app)
    session = serializer.loads(client.http.cookies["session"])
    with app.app_context():
        template = db.session.scalar(select(Brouillon.donnees).where(Brouillon.id == session["brouillon"]))
        rows, lines = [], []
        body = "&".join(f"{k}={urllib.request.quote(v)}" for k, v in review_data.items())
        for n in range(FIRST_CANDIDATE, FIRST_CANDIDATE + count):
            person = candidate(n)
            draft = json.loads(json.dumps(template))
            for step, names in IDENTITY.items():
                for name in names:
                    value = person[name]
                    draft[step][name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
            draft_id = new_token()
            rows.append({"id": draft_id, "donnees": draft, "updated_at": utcnow()})
            cookie = serializer.dumps({**session, "brouillon": draft_id})
            lines.append(f"session={cookie}\t{body}")
        db.session.execute(insert(Brouillon), rows)
        db.session.commit()
        db.engine.dispose()
    path = workdir / "p2_registrations.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk_registrations(url: str, lines: Path, duration: float, workdir: Path) -> dict:
    script = workdir / "p2_review.lua"
    script.write_text(WRK_SCRIPT)
    threads, connections = 2, 50
    command = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
               "--timeout", "10s", "-s", str(script), url, "--", str(lines), str(threads), REVIEW]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr[-800:]}")
    counts = re.search(r"REGISTRATIONS ok=(\d+) bad=(\d+) reused=(\d+)", done.stdout)
    seconds = re.search(r"requests in ([\d.]+)s", done.stdout)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", done.stdout, re.M)
    if not counts or not seconds:
        raise RuntimeError(f"unreadable wrk output:\n{done.stdout[-1500:]}")
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "ok": int(counts.group(1)),
        "bad": int(counts.group(2)),
        "reused": int(counts.group(3)),
        "seconds": float(seconds.group(1)),
        "p99_ms": float(p99.group(1)) * factor[p99.group(2)] if p99 else None,
    }


def run(ctx: Context) -> list[dict]:
    duration = ctx.duration(10, 3)
    server = shared_registration_server(ctx)
    if wrk_path() is None:
        from benchmarks.common import NotAvailable

        raise NotAvailable("P2 needs wrk (Debian package) to replay prepared registrations")
    # Enough prepared registrations for the fastest plausible rate over the whole run.
    lines = prepare_registrations(server, ctx.size(int(duration * 1000), 800), ctx.workdir)
    wait_idle(server.url)
    anchor = http_load(server.url + "/bench/insert", method="POST", duration=duration, workdir=ctx.workdir)
    wait_idle(server.url)
    review = wrk_registrations(server.url + REVIEW, lines, duration, ctx.workdir)
    rate = review["ok"] / review["seconds"]
    flow = drive(
        Plan(
            server.url,
            ETAB_CODE,
            ETAB_PASSWORD,
            mode="replay",
            first_candidate=FIRST_CANDIDATE + 1_000_000,
            count=10**6,
            processes=PROCESSES,
            seconds=duration,
        )
    )
    errors = review["bad"]
    return [
        make_result(
            "P2",
            ctx.database,
            value=rate,
            anchor=anchor.rps,
            unit="registrations/s",
            target=">= 0.5x",
            met=rate >= 0.5 * anchor.rps and errors == 0 and review["reused"] == 0,
            p99_ms=review["p99_ms"],
            errors=errors,
            prepared=sum(1 for _ in lines.open()),
            prepared_exhausted=review["reused"] > 0,
            anchor_errors=anchor.errors,
            anchor_p99_ms=anchor.p99_ms,
            whole_flow_registrations_per_s=flow.rate,
            whole_flow_posts_per_registration=flow.stats.requests / max(1, flow.stats.completed + flow.stats.errors),
            whole_flow_errors=flow.stats.errors,
            seconds=duration,
            demo_data=demo_available(),
        )
    ]
