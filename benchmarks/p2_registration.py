"""P2: complete registrations per second against ``/bench/insert`` (one bare INSERT +
commit) in the same app and server (gunicorn ``-w 2`` sync).

What is measured exactly: a complete registration is the sequence of POSTs of the
in-school flow, one per step (identity, contact, specialty, form of passage when asked,
review), each with the CSRF token of the computer's session and validated, the last one
checking every rule again, allocating the number, inserting the registration, its version
and its audit event, and redirecting to the confirmation. The values of each step come
from one discovery walk through the pages; each registration then posts a distinct
candidate (name, birth date, INE). Several client processes (each one school computer)
post sequences back to back for a bounded time; the value is completed registrations per
second. The anchor is wrk (``-t2 -c50``) POSTing to ``/bench/insert`` for the same time;
details add the POST rate of the flow and the anchor as measured by the same Python client
(``anchor_python_rps``), which shows how much of the gap is the client's own cost.
"""

from __future__ import annotations

import time
import urllib.request

from benchmarks.common import Context, demo_available, http_load, make_result
from benchmarks.flow import Plan, drive, shared_registration_server
from benchmarks.seed import ETAB_CODE, ETAB_PASSWORD

ROWS = ("P2",)
PROCESSES = 4
# Candidates of P2 and P6 never meet on the shared server.
FIRST_CANDIDATE = 5_000_000


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


def run(ctx: Context) -> list[dict]:
    duration = ctx.duration(10, 3)
    server = shared_registration_server(ctx)
    wait_idle(server.url)
    anchor = http_load(server.url + "/bench/insert", method="POST", duration=duration, workdir=ctx.workdir)
    flow = drive(
        Plan(
            server.url,
            ETAB_CODE,
            ETAB_PASSWORD,
            mode="replay",
            first_candidate=FIRST_CANDIDATE,
            count=10**6,
            processes=PROCESSES,
            seconds=duration,
        )
    )
    python_anchor = drive(
        Plan(
            server.url,
            "",
            "",
            mode="insert",
            first_candidate=0,
            count=10**7,
            processes=PROCESSES,
            seconds=duration,
        )
    )
    stats = flow.stats
    if stats.completed == 0:
        raise RuntimeError(f"no registration completed: {stats.first_errors}")
    posts_per_registration = stats.requests / max(1, stats.completed + stats.errors)
    return [
        make_result(
            "P2",
            ctx.database,
            value=flow.rate,
            anchor=anchor.rps,
            unit="registrations/s",
            target=">= 0.5x",
            met=flow.rate >= 0.5 * anchor.rps and stats.errors == 0,
            posts_per_registration=posts_per_registration,
            flow_posts_per_s=stats.requests / flow.seconds,
            p99_ms=flow.percentile(99),
            errors=stats.errors,
            first_errors=stats.first_errors[:3],
            anchor_errors=anchor.errors,
            anchor_python_rps=python_anchor.rate,
            client_processes=PROCESSES,
            seconds=duration,
            demo_data=demo_available(),
        )
    ]
