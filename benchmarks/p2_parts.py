"""What the P2 registration POST costs, part by part: a diagnostic for the P2 row of
``make bench``, not a row of it.

    .venv/bin/python -m benchmarks.p2_parts [--database sqlite|postgresql] [--served]

The review POST that registers a candidate is measured as built and with parts of it left
out on purpose, to show what the rest costs (the portal itself never runs these variants):

- ``no re-validation``: the candidate and the choice typed straight from the stored draft,
  instead of the four step forms rebuilt and validated again;
- ``no re-validation, no rule``: besides, none of the rules (calendar, age, pupil base,
  late window, form of passage); the specialty is still looked up for the writes.

Both variants keep the CSRF check, the access and service checks, the number, the four
inserts and the audit event, the draft deleted, the commit and the session cookie.

By default the portal runs in this process (test client, no HTTP server, no load
generator): the database and the drafts are prepared as for P2, then round after round the
hello route, the bare-INSERT anchor and each variant of the POST are timed (median ms per
request); ``anchor / POST`` is the anchor's time over the POST's. With ``--served`` each
variant is instead served by gunicorn (``benchmarks.p2_variant``) and measured by the P2
row itself (wrk, the same durations and anchor): the ratio P2 would report.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from unittest import mock

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import p2_registration as p2  # noqa: E402
from benchmarks.common import PG_URL, Context, bench_app, postgres_available  # noqa: E402
from benchmarks.flow import registration_server, shared_registration_server  # noqa: E402


@contextmanager
def draft_not_validated_again():
    """Candidate and choice typed from the draft's saved strings, as the forms would give them."""
    from portal import parcours as flow
    from portal.services import candidatures

    def candidature(parcours):
        draft = parcours.brouillon
        candidat = {**draft["identite"], **draft["contact"]}
        candidat["date_naissance"] = date.fromisoformat(candidat["date_naissance"])
        forme = draft.get("forme", {})
        specialite = parcours.specialite()
        europe = None
        etablissement = parcours.ctx.etablissement
        if candidatures.section_europeenne_demandee(specialite, etablissement, parcours.statut()):
            europe = {"oui": True, "non": False}.get(forme.get("section_europeenne"))
        return candidat, candidatures.Choix(specialite.id, forme=forme.get("forme") or None,
                                            section_europeenne=europe)

    with mock.patch.object(flow.Parcours, "candidature", candidature), \
            mock.patch.object(flow.Parcours, "recapitulatif", lambda parcours: []):
        yield


@contextmanager
def no_rule():
    from portal.services import candidatures
    from portal.services.campagne import EtatService
    from portal.services.identite import cle_identite

    def check_candidature(ctx, candidat, choix, now=None):
        specialite = candidatures.specialite_offerte(ctx, choix.specialite_id, now)
        valide = candidatures.ChoixValide(specialite, choix.forme or specialite.formes[0],
                                          bool(choix.section_europeenne), EtatService(True))
        cle = cle_identite(candidat["nom_naissance"], candidat["prenom1"], candidat["date_naissance"])
        return valide, None, cle

    with mock.patch.object(candidatures, "check_candidature", check_candidature):
        yield


ANCHOR = "anchor (one bare INSERT)"
# What a variant may leave out (also read by ``benchmarks.p2_variant`` in served mode).
LEFT_OUT = {"revalidation": draft_not_validated_again, "rules": no_rule}
VARIANTS = {
    "review POST": (),
    "no re-validation": ("revalidation",),
    "no re-validation, no rule": ("revalidation", "rules"),
}


def measure(database: str, requests: int, rounds: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="p2-parts-"))
    ctx = Context(database=database, quick=False, workdir=workdir)
    try:
        server = shared_registration_server(ctx)
        needed = requests * rounds * len(VARIANTS) + 50
        lines = p2.prepare_registrations(server, needed, workdir).read_text().splitlines()
        url, secret = server.database_url, server.env["SECRET_KEY"]
    finally:
        ctx.close()  # the database stays: the server only served the walk
    app = bench_app(url, create_schema=False, SECRET_KEY=secret)
    client = app.test_client(use_cookies=False)
    prepared = iter(lines)

    def review() -> None:
        cookie, body = next(prepared).split("\t", 1)
        response = client.post(p2.REVIEW, data=body, headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        if response.status_code != 302 or "/confirmation" not in response.headers.get("Location", ""):
            raise RuntimeError(f"the review POST answered {response.status_code}, not the confirmation")

    def anchor() -> None:
        if client.post("/bench/insert").status_code != 200:
            raise RuntimeError("the anchor failed")

    def hello() -> None:
        if client.get("/bench/hello").status_code != 200:
            raise RuntimeError("the hello route failed")

    def per_request(call, count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            call()
        return (time.perf_counter() - start) / count * 1000

    for call in (hello, anchor, review):  # warm-up: caches, compiled statements, pools
        per_request(call, 20)
    samples: dict[str, list[float]] = {"hello": [], ANCHOR: [], **{name: [] for name in VARIANTS}}
    for _ in range(rounds):
        samples["hello"].append(per_request(hello, requests))
        samples[ANCHOR].append(per_request(anchor, requests))
        for name, parts in VARIANTS.items():
            with ExitStack() as stack:
                for part in parts:
                    stack.enter_context(LEFT_OUT[part]())
                samples[name].append(per_request(review, requests))
    return {name: statistics.median(values) for name, values in samples.items()}


def report(database: str, times: dict[str, float]) -> str:
    anchor = times[ANCHOR]
    lines = [f"P2 parts, {database}, in process (median ms per request)", "",
             f"{'request':<28} {'ms':>7} {'anchor / POST':>14}"]
    for name, ms in times.items():
        ratio = f"{anchor / ms:.3f}" if name in VARIANTS else ""
        lines.append(f"{name:<28} {ms:>7.3f} {ratio:>14}")
    return "\n".join(lines)


def served(database: str) -> str:
    """Each variant behind gunicorn, measured by the P2 row (a fresh database each)."""
    lines = [f"P2 parts, {database}, served by gunicorn -w 2 and loaded by wrk as in make bench", "",
             f"{'request':<28} {'registrations/s':>16} {'anchor req/s':>13} {'ratio':>6} {'errors':>6}"]
    for name, parts in VARIANTS.items():
        ctx = Context(database=database, quick=False, workdir=Path(tempfile.mkdtemp(prefix="p2-served-")))
        try:
            variant = {"app": "benchmarks.p2_variant:app", "extra_env": {"P2_VARIANT": ",".join(parts)}}
            ctx.share("registration", lambda ctx=ctx, variant=variant: registration_server(ctx, "registration", **variant))
            [row] = p2.run(ctx)
        finally:
            ctx.close()
        details = row.get("details", {})
        lines.append(f"{name:<28} {row['value']:>16.1f} {row['anchor']:>13.1f} {row['ratio']:>6.3f} "
                     f"{details.get('errors')!s:>6}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--served", action="store_true", help="each variant behind gunicorn, loaded by wrk")
    parser.add_argument("--requests", type=int, default=300,
                        help="in process: requests per measure and round")
    parser.add_argument("--rounds", type=int, default=3, help="in process: rounds")
    args = parser.parse_args(argv)
    if args.database == "postgresql":
        missing = postgres_available(PG_URL)
        if missing:
            print(f"PostgreSQL unavailable: {missing}", file=sys.stderr)
            return 1
    if args.served:
        print(served(args.database))
    else:
        print(report(args.database, measure(args.database, args.requests, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
