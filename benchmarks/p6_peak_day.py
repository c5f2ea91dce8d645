"""P6: a compressed peak day, absolute: 20,000 complete registrations in at most 10 minutes,
0 errors, p99 <= 300 ms.

Many client processes (each one school computer of the bench establishment) go through
every page of the in-school flow for distinct candidates: GET and POST of each step, the
review page and its POST (the registration), the confirmation page, then "Nouvelle
inscription". The confirmation PDF is not downloaded (P3a measures it). The load generator
runs on the same machine as the server (gunicorn ``-w 2`` sync). The run stops at 20,000
registrations or at the 10-minute bound; p99 is over every request of the run.
"""

from __future__ import annotations

from benchmarks.common import Context, demo_available, make_result
from benchmarks.flow import Plan, drive, shared_registration_server
from benchmarks.seed import ETAB_CODE, ETAB_PASSWORD

ROWS = ("P6",)
PROCESSES = 8
LIMIT_S = 600


def run(ctx: Context) -> list[dict]:
    count = ctx.size(20_000, 60)
    bound = ctx.duration(LIMIT_S, 120)
    server = shared_registration_server(ctx)
    result = drive(
        Plan(
            server.url,
            ETAB_CODE,
            ETAB_PASSWORD,
            mode="walk",
            first_candidate=0,
            count=count,
            processes=PROCESSES,
            seconds=bound,
        )
    )
    stats = result.stats
    p99 = result.percentile(99)
    finished = stats.completed == count
    # Projected time of the whole day when the bound stopped the run first.
    projected = result.seconds * count / stats.completed if stats.completed else None
    met = finished and result.seconds <= LIMIT_S and stats.errors == 0 and p99 is not None and p99 <= 300
    return [
        make_result(
            "P6",
            ctx.database,
            value=result.seconds,
            anchor=None,
            unit="s",
            ratio=None,
            target=f"{count} registrations <= {LIMIT_S} s; 0 errors; p99 <= 300 ms",
            met=met,
            registrations=stats.completed,
            errors=stats.errors,
            p99_ms=p99,
            p50_ms=result.percentile(50),
            requests=stats.requests,
            registrations_per_s=result.rate,
            projected_s=projected,
            demo_data=demo_available(),
            first_errors=stats.first_errors[:3],
            client_processes=PROCESSES,
        )
    ]
