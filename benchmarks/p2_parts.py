"""What the P2 registration POST costs, part by part, in one process: a diagnostic for the
P2 row of ``make bench``, not a row of it (no HTTP server, no load generator).

    .venv/bin/python -m benchmarks.p2_parts [--database sqlite|postgresql] [--requests 600]

The database is prepared as for P2 (demo data, the bench establishment, one stored draft
per candidate), then the portal runs in this process and the test client sends, round
after round, the hello route, the bare-INSERT anchor and the review POST that registers a
candidate. The review POST is also timed with parts of it left out on purpose, to show
what the rest costs (the portal itself never runs these variants):

- ``no re-validation``: the candidate and the choice typed straight from the stored draft,
  instead of the four step forms rebuilt and validated again;
- ``no re-validation, no rule``: besides, none of the rules (calendar, age, pupil base,
  late window, form of passage); the specialty is still looked up for the writes.

Both variants keep the CSRF check, the access and service checks, the number, the four
inserts and the audit event, the draft deleted, the commit and the session cookie.
``anchor / POST`` is the anchor's time over the variant's: in process, the best P2 ratio
the variant could reach. Over HTTP both requests also pay the server's own cost per
request, which raises the ratio somewhat (the printout estimates it from P2's figures
when they are given with ``--http``: registrations/s,anchor req/s).
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
from benchmarks.flow import shared_registration_server  # noqa: E402


@contextmanager
def draft_not_validated_again():
    """Candidate and choice typed from the draft's saved strings, as the forms would give them."""
    from portal import forms_common
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

    with mock.patch.object(forms_common.Parcours, "candidature", candidature), \
            mock.patch.object(forms_common.Parcours, "recapitulatif", lambda parcours: []):
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
VARIANTS = {
    "review POST": (),
    "no re-validation": (draft_not_validated_again,),
    "no re-validation, no rule": (draft_not_validated_again, no_rule),
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
        for name, patches in VARIANTS.items():
            with ExitStack() as stack:
                for patch in patches:
                    stack.enter_context(patch())
                samples[name].append(per_request(review, requests))
    return {name: statistics.median(values) for name, values in samples.items()}


def report(database: str, times: dict[str, float], http: tuple[float, float] | None) -> str:
    anchor = times[ANCHOR]
    lines = [f"P2 parts, {database}, in process (median ms per request)", "",
             f"{'request':<28} {'ms':>7} {'anchor / POST':>14}"]
    for name, ms in times.items():
        ratio = f"{anchor / ms:.3f}" if name in VARIANTS else ""
        lines.append(f"{name:<28} {ms:>7.3f} {ratio:>14}")
    if http is not None:
        # Over HTTP with two workers: each request costs the server about its in-process time
        # plus an overhead that both requests pay; estimated from the anchor's measured rate.
        registrations, anchor_rps = http
        overhead = max(0.0, 2000 / anchor_rps - anchor)
        lines += ["", f"server overhead per request, from the anchor's {anchor_rps:.0f} req/s over HTTP: "
                      f"{overhead:.3f} ms (measured P2 ratio {registrations / anchor_rps:.3f})"]
        for name in VARIANTS:
            estimate = (anchor + overhead) / (times[name] + overhead)
            lines.append(f"  {name:<28} estimated P2 ratio {estimate:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=300, help="requests per measure and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--http", help="P2's registrations/s,anchor req/s (from make bench) to estimate "
                                       "the ratios over HTTP")
    args = parser.parse_args(argv)
    if args.database == "postgresql":
        missing = postgres_available(PG_URL)
        if missing:
            print(f"PostgreSQL unavailable: {missing}", file=sys.stderr)
            return 1
    http = tuple(float(part) for part in args.http.split(",")) if args.http else None
    print(report(args.database, measure(args.database, args.requests, args.rounds), http))
    return 0


if __name__ == "__main__":
    sys.exit(main())
