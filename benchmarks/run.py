"""Entry point of ``make bench``: runs the rows P1..P6 on SQLite and PostgreSQL, prints a
table and writes ``bench-results.json``.

    .venv/bin/python benchmarks/run.py [--only P1,P3a] [--database sqlite|postgresql|both]
                                       [--quick] [--output bench-results.json]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import traceback
from importlib import import_module
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    PG_URL,
    ROOT,
    Context,
    NotAvailable,
    format_table,
    postgres_available,
    scratch_dir,
    write_results,
)

# Module of each row, in run order (P3a and P3b live in one module each).
MODULES = (
    ("P1", "benchmarks.p1_form"),
    ("P2", "benchmarks.p2_registration"),
    ("P3a", "benchmarks.p3a_confirmation"),
    ("P3b", "benchmarks.p3b_batch"),
    ("P4", "benchmarks.p4_pupil_load"),
    ("P5", "benchmarks.p5_export"),
    ("P6", "benchmarks.p6_peak_day"),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Portal benchmarks (issue 7).")
    parser.add_argument("--only", default="", help="comma-separated row ids, e.g. P1,P3a")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small sizes and durations (smoke run)")
    parser.add_argument("--output", default=str(ROOT / "bench-results.json"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (databases, logs)")
    return parser.parse_args(argv)


def selected_rows(only: str) -> list[tuple[str, str]]:
    if not only:
        return list(MODULES)
    wanted = {part.strip().upper() for part in only.split(",") if part.strip()}
    known = {row_id.upper() for row_id, _ in MODULES}
    unknown = wanted - known
    if unknown:
        raise SystemExit(
            f"unknown rows: {', '.join(sorted(unknown))} (known: {', '.join(r for r, _ in MODULES)})"
        )
    return [(row_id, module) for row_id, module in MODULES if row_id.upper() in wanted]


def databases(choice: str) -> list[str]:
    wanted = ["sqlite", "postgresql"] if choice == "both" else [choice]
    if "postgresql" in wanted:
        reason = postgres_available(PG_URL)
        if reason is not None:
            print(f"PostgreSQL rows skipped: {PG_URL} unreachable ({reason})")
            wanted.remove("postgresql")
    return wanted


def run_row(row_id: str, module_name: str, ctx: Context) -> list[dict]:
    label = f"{row_id} [{ctx.database}]"
    print(f"--- {label} ...", flush=True)
    start = time.perf_counter()
    try:
        module = import_module(module_name)
        results = module.run(ctx)
    except NotAvailable as exc:
        print(f"{label} not available yet: {exc}", flush=True)
        return []
    except Exception:  # noqa: BLE001 - one broken row must not hide the others
        print(f"{label} FAILED:\n{traceback.format_exc()}", flush=True)
        return []
    for result in results:
        print(
            f"{label} {result['id']}: {result['value']} {result['unit']} vs anchor {result['anchor']} "
            f"(ratio {result['ratio']}, target {result['target']}: {'met' if result['met'] else 'NOT met'})"
            f" in {time.perf_counter() - start:.1f}s",
            flush=True,
        )
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows = selected_rows(args.only)
    workdir = scratch_dir()
    results: list[dict] = []
    try:
        for database in databases(args.database):
            ctx = Context(database=database, quick=args.quick, workdir=workdir / database)
            ctx.workdir.mkdir(parents=True, exist_ok=True)
            try:
                for row_id, module_name in rows:
                    results += run_row(row_id, module_name, ctx)
            finally:
                ctx.close()
    finally:
        if args.keep:
            print(f"scratch directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(format_table(results) if results else "no result")
    write_results(Path(args.output), results)
    note = " (quick run: sizes reduced)" if args.quick else ""
    print(f"\n{len(results)} result(s) written to {args.output}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
