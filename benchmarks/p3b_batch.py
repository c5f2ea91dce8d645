"""P3b: the confirmations of a 500-candidate specialty, all already issued, as one PDF.

Setup: 500 registrations of one specialty, each confirmation issued once (rendered and
stored by ``confirmations.confirmation_pdf``). Then each side runs in a fresh Python
process that has imported the same modules and opened the app, and reports its time and
the peak memory of the measured call: the process's peak RSS (``VmHWM``, reset through
``/proc/self/clear_refs`` just before the call; ``ru_maxrss`` where that is not possible),
details adding the growth over the RSS just before the call:
- value: ``confirmations.confirmations_batch`` on the specialty's registrations (stored
  pages merged);
- anchor: the same pages as one naive WeasyPrint document: the 500 confirmations' HTML
  (same template and context) joined in one document and rendered by one
  ``HTML(string=...).write_pdf()``.
Target: <= 0.3x its time and <= 0.5x its peak memory.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time

from benchmarks.common import ROOT, Context, bench_app, make_result, require_module, rss_kb
from benchmarks.seed import add_inscriptions, create_world

ROWS = ("P3b",)


def run(ctx: Context) -> list[dict]:
    confirmations = require_module("portal.services.confirmations", "confirmations_batch", "confirmation_pdf")
    count = ctx.size(500, 20)
    url = ctx.fresh_url("p3b")
    app = bench_app(url)
    with app.app_context(), app.test_request_context("/"):
        from portal.extensions import db
        from portal.models import Inscription

        world = create_world()
        for start in range(0, count, 100):
            for inscription_id in add_inscriptions(world, min(100, count - start), start=start):
                confirmations.confirmation_pdf(db.session.get(Inscription, inscription_id))
            db.session.commit()
        db.engine.dispose()
    stored = _child("stored", url, world.specialite_id)
    naive = _child("naive", url, world.specialite_id)
    if stored["pages"] < count or naive["pages"] < count:
        raise RuntimeError(f"documents too short: {stored['pages']} and {naive['pages']} pages for {count}")
    time_ratio = stored["seconds"] / naive["seconds"]
    memory_ratio = stored["peak_kb"] / naive["peak_kb"]
    return [
        make_result(
            "P3b",
            ctx.database,
            value=stored["seconds"],
            anchor=naive["seconds"],
            unit="s",
            target="<= 0.3x time; <= 0.5x peak memory",
            met=time_ratio <= 0.3 and memory_ratio <= 0.5,
            peak_mb=stored["peak_kb"] / 1024,
            anchor_peak_mb=naive["peak_kb"] / 1024,
            memory_ratio=memory_ratio,
            growth_mb=(stored["peak_kb"] - stored["start_rss_kb"]) / 1024,
            anchor_growth_mb=(naive["peak_kb"] - naive["start_rss_kb"]) / 1024,
            candidates=count,
            pages=stored["pages"],
        )
    ]


def _child(kind: str, url: str, specialite_id: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.p3b_batch", kind, url, str(specialite_id)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} child failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- in the child process -------------------------------------------------------------


def _rows(specialite_id: int):
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from portal.extensions import db
    from portal.models import Inscription

    return list(
        db.session.scalars(
            select(Inscription)
            .where(Inscription.specialite_id == specialite_id)
            .order_by(Inscription.numero)
            .options(
                selectinload(Inscription.versions),
                selectinload(Inscription.candidat),
                selectinload(Inscription.etablissement),
                selectinload(Inscription.session),
            )
        )
    )


def _naive_document(rows) -> bytes:
    from flask import render_template
    from weasyprint import HTML

    from portal.services import confirmations

    pages = [render_template("pdf/confirmation.html", **confirmations.context(i)) for i in rows]
    head = pages[0].split("<body", 1)[0]
    bodies = [re.split(r"<body[^>]*>", page, maxsplit=1)[1].rsplit("</body>", 1)[0] for page in pages]
    html = head + "<body>" + '<div style="break-before: page"></div>'.join(bodies) + "</body></html>"
    return HTML(string=html).write_pdf()


def child(kind: str, url: str, specialite_id: int) -> dict:
    import io

    import weasyprint  # noqa: F401  (both sides pay the same imports before measuring)
    from pypdf import PdfReader

    from portal.services import confirmations

    app = bench_app(url, create_schema=False)
    with app.app_context(), app.test_request_context("/"):
        rows = _rows(specialite_id)
        start_rss = rss_kb(os.getpid())
        reset = _reset_peak()
        start = time.perf_counter()
        content = confirmations.confirmations_batch(rows) if kind == "stored" else _naive_document(rows)
        seconds = time.perf_counter() - start
        peak = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "peak_kb": peak,
        "start_rss_kb": start_rss,
        "peak_reset": reset,
        "pages": len(PdfReader(io.BytesIO(content)).pages),
    }


def _reset_peak() -> bool:
    """Reset the process's peak RSS (VmHWM) so that it measures the call alone (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
