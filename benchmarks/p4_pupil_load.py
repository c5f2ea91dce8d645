"""P4: load of a pupil base (100,000 lines, one establishment) with validation.

- value: rows/s of the portal's load (``services/chargements/``) of the CSV file a manager
  uploads, both phases committed: ``create_preview`` (file kept, every line parsed and
  validated) then ``run`` (validated again, purge-and-reimport written with its exchange
  and undo traces); details give each phase;
- anchor: rows/s of the fastest raw insert of the very same rows into the same ``eleves``
  table (same indexes and constraints): ``COPY ... FROM STDIN`` (psycopg 3) on PostgreSQL,
  ``sqlite3`` ``executemany`` in one transaction on SQLite. The anchor's rows are deleted
  before the portal's load runs, so both start from an empty table;
- details also give a reload of the same size (both phases again): a tenth of the pupils
  leave, a tenth arrive, a tenth change decision, the rest are unchanged.
"""

from __future__ import annotations

import io
import sqlite3

from benchmarks.common import Context, NotAvailable, bench_app, make_result, require_module, timed
from benchmarks.seed import World, create_world, pupil_csv, pupil_rows

ROWS = ("P4",)
COLUMNS = (
    "session_id",
    "etablissement_id",
    "ine",
    "nom",
    "prenoms",
    "date_naissance",
    "examen_id",
    "specialite_id",
    "decision",
    "note",
    "present",
    "updated_at",
    "cle_tri",
)
# Names the load of a pupil base may have in services/chargements/, first found is used.


def run(ctx: Context) -> list[dict]:
    from portal.extensions import db

    count = ctx.size(100_000, 5_000)
    url = ctx.fresh_url("p4")
    app = bench_app(url, CHARGEMENTS_DIR=str(ctx.workdir / "chargements"))
    with app.app_context(), app.test_request_context("/"):
        world = create_world()
        rows = pupil_rows(count)
        anchor_s = timed(_anchor, db.engine, _records(world, rows))[0]
        _delete_pupils(db.engine)
        _forget_sort_keys()
        chargements = _chargements(f"anchor measured: {count / anchor_s:,.0f} rows/s")
        content = pupil_csv(rows)
        preview_s, run_s, loaded = _service_load(chargements, world, content)
        reload_preview_s, reload_run_s, _created = _service_load(chargements, world, pupil_csv(_reload(rows)))
        db.engine.dispose()
    if loaded != count:
        raise RuntimeError(f"the load created {loaded} of {count} pupils")
    value_s = preview_s + run_s
    anchor_name = "COPY FROM STDIN" if ctx.database == "postgresql" else "sqlite3 executemany"
    value, anchor = count / value_s, count / anchor_s
    return [
        make_result(
            "P4",
            ctx.database,
            value=value,
            anchor=anchor,
            unit="rows/s",
            target=">= 0.25x",
            met=value >= 0.25 * anchor,
            rows=count,
            anchor_kind=anchor_name,
            value_s=value_s,
            preview_s=preview_s,
            run_s=run_s,
            anchor_s=anchor_s,
            reload_preview_s=reload_preview_s,
            reload_run_s=reload_run_s,
        )
    ]


def _reload(rows: list[tuple]) -> list[tuple]:
    """The next version of the base: the first tenth leave, the next tenth change
    decision, a tenth of new pupils arrive."""
    tenth = len(rows) // 10
    changed = [(*r[:6], "S", "Sous réserve du stage") for r in rows[tenth : 2 * tenth]]
    return changed + rows[2 * tenth :] + pupil_rows(len(rows) + tenth)[len(rows) :]


def _chargements(note: str):
    try:
        return require_module("portal.services.chargements", "create_preview", "run")
    except NotAvailable as exc:
        raise NotAvailable(f"{exc} ({note})") from exc


def _forget_sort_keys() -> None:
    """The anchor's rows were given their keys before its clock started; the portal's load
    computes them in its measured time, from a cold cache."""
    from portal import collation

    collation._weights.cache_clear()


def _records(world: World, rows: list[tuple]) -> list[tuple]:
    """The rows as stored, sort key included (``portal/collation.py``), computed here,
    outside the anchor's measured time."""
    from portal.collation import cle_tri
    from portal.models import Eleve, utcnow

    now = utcnow()
    return [
        (
            world.session_id,
            world.etablissement_id,
            r[0],
            r[1],
            r[2],
            r[3],
            world.examen_id,
            world.specialite_id,
            r[6],
            r[7],
            True,
            now,
            cle_tri(Eleve.normalise_nom(r[1]), Eleve.normalise_prenoms(r[2])),
        )
        for r in rows
    ]


def _anchor(engine, records: list[tuple]) -> None:
    if engine.dialect.name == "postgresql":
        import psycopg

        with psycopg.connect(
            engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        ) as conn:
            with conn.cursor() as cursor, cursor.copy(
                f"COPY eleves ({', '.join(COLUMNS)}) FROM STDIN"
            ) as copy:
                for record in records:
                    copy.write_row(record)
            conn.commit()
        return
    conn = sqlite3.connect(engine.url.database)
    try:
        placeholders = ", ".join("?" for _ in COLUMNS)
        with conn:
            conn.executemany(
                f"INSERT INTO eleves ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                [(*r[:5], r[5].isoformat(), *r[6:10], 1, r[11].isoformat(sep=" "), r[12]) for r in records],
            )
    finally:
        conn.close()


def _delete_pupils(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM eleves")


def _service_load(chargements, world: World, content: bytes) -> tuple[float, float, int]:
    """The two phases of a manager's load, each committed as the views do: the preview
    (upload kept server-side, every line parsed and validated) and the run (the same file
    validated again, then written in one transaction with its exchange and traces).
    Returns (preview seconds, run seconds, pupils created)."""
    from portal.extensions import db
    from portal.models import Etablissement, SessionExamen
    from portal.services import verrou

    session_examen = db.session.get(SessionExamen, world.session_id)
    etab = db.session.get(Etablissement, world.etablissement_id)
    preview_s, meta = timed(
        chargements.create_preview,
        "eleves",
        io.BytesIO(content),
        "base_eleves.csv",
        session_examen=session_examen,
        etablissement=etab,
        gestionnaire_id=None,
        acteur="mesure",
    )
    db.session.commit()
    if meta["apercu"]["nb_erreurs"]:
        raise RuntimeError(f"the pupil file was refused: {meta['apercu'].get('erreurs', [])[:3]}")
    verrou.acquire(acteur="mesure", gestionnaire_id=None, motif="chargement de la base élèves")
    db.session.commit()
    run_s, echange = timed(chargements.run, meta, acteur="mesure", gestionnaire_id=None)
    verrou.release(acteur="mesure")
    db.session.commit()
    return preview_s, run_s, echange.nb_crees
