"""P3a: one confirmation PDF, in process.

- value: median time of ``confirmations.confirmation_pdf`` for registrations whose current
  version was never issued (render, store the bytes, commit);
- anchor: median time of plain WeasyPrint (``HTML(string=...).write_pdf()``, its own
  defaults, no shared font configuration) on the very same HTML, measured alternately;
- repeated: median time of ``confirmation_pdf`` again on the same registrations (stored bytes).
A warm-up render of another registration comes first, so that neither side pays the
process's first font loading.
"""

from __future__ import annotations

from benchmarks.common import Context, bench_app, make_result, median, require_module, timed
from benchmarks.seed import add_inscriptions, create_world

ROWS = ("P3a",)


def run(ctx: Context) -> list[dict]:
    confirmations = require_module("portal.services.confirmations", "confirmation_pdf", "context")
    from flask import render_template
    from weasyprint import HTML

    from portal.extensions import db
    from portal.models import Inscription

    samples = ctx.size(15, 4)
    app = bench_app(ctx.fresh_url("p3a"))
    with app.app_context(), app.test_request_context("/"):
        world = create_world()
        ids = add_inscriptions(world, samples + 1)
        confirmations.confirmation_pdf(db.session.get(Inscription, ids[0]))  # warm-up
        db.session.commit()
        firsts, anchors, repeats = [], [], []
        for inscription_id in ids[1:]:
            inscription = db.session.get(Inscription, inscription_id)
            html = render_template("pdf/confirmation.html", **confirmations.context(inscription))
            anchors.append(timed(HTML(string=html).write_pdf)[0])
            firsts.append(timed(_first_render, confirmations, inscription)[0])
        for inscription_id in ids[1:]:
            inscription = db.session.get(Inscription, inscription_id)
            repeats.append(timed(confirmations.confirmation_pdf, inscription)[0])
        db.session.rollback()
        db.engine.dispose()
    first, anchor, repeated = median(firsts), median(anchors), median(repeats)
    return [
        make_result(
            "P3a",
            ctx.database,
            value=first,
            anchor=anchor,
            unit="s",
            target="first <= 1.2x; repeated <= 0.1x",
            met=first <= 1.2 * anchor and repeated <= 0.1 * anchor,
            repeated_s=repeated,
            repeated_ratio=repeated / anchor,
            samples=samples,
        )
    ]


def _first_render(confirmations, inscription) -> bytes:
    from portal.extensions import db

    content = confirmations.confirmation_pdf(inscription)
    db.session.commit()
    return content
