"""P1: the registration form GET (first step page of the in-school flow, on a school
computer opened with the registration password) against ``/bench/hello`` (no database,
plain "ok") in the same app and server: gunicorn ``-w 2`` sync, wrk ``-t2 -c50`` from a
separate process, same duration, the anchor first. Targets: >= 0.25x its req/s and
p99 <= 100 ms."""

from __future__ import annotations

from benchmarks.common import Context, demo_available, http_load, make_result
from benchmarks.flow import login_cookie, shared_registration_server

ROWS = ("P1",)


def run(ctx: Context) -> list[dict]:
    duration = ctx.duration(10, 3)
    server = shared_registration_server(ctx)
    anchor = http_load(server.url + "/bench/hello", duration=duration, workdir=ctx.workdir)
    # Logged in just before the page's run: the cookie is at most a few seconds old, as
    # a pupil's browser cookie is (the portal signs it again once a minute at most).
    cookie, first_step = login_cookie(server)
    page = http_load(
        server.url + first_step, duration=duration, headers={"Cookie": cookie}, workdir=ctx.workdir
    )
    if page.requests == 0 or anchor.requests == 0:
        raise RuntimeError("no request completed")
    return [
        make_result(
            "P1",
            ctx.database,
            value=page.rps,
            anchor=anchor.rps,
            unit="req/s",
            target=">= 0.25x; p99 <= 100 ms",
            met=page.rps >= 0.25 * anchor.rps
            and page.p99_ms is not None
            and page.p99_ms <= 100
            and page.errors == 0,
            p99_ms=page.p99_ms,
            anchor_p99_ms=anchor.p99_ms,
            errors=page.errors,
            anchor_errors=anchor.errors,
            demo_data=demo_available(),
            page=first_step,
            tool=page.tool,
            seconds=duration,
        )
    ]
