"""The benchmark harness (``make bench``): the JSON it writes, how it reads wrk, how a row
whose prerequisites are missing is reported, and the anchor routes that exist only in the
benchmarks' own app (``benchmarks/app.py``). No timing is asserted here."""

from __future__ import annotations

import json
import sys
import types

import pytest
from sqlalchemy import text

from benchmarks import run as bench_run
from benchmarks.anchors import register_anchors
from benchmarks.common import NotAvailable, RESULT_KEYS, format_table, make_result, parse_wrk, write_results
from benchmarks.flow import fill, main_form, parse
from portal.extensions import db

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:5000/bench/hello
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.10ms    3.20ms  80.00ms   90.00%
  Latency Distribution
     50%   11.50ms
     75%   13.00ms
     90%   15.00ms
     99%  850.00us
  40123 requests in 10.00s, 6.12MB read
  Socket errors: connect 0, read 12, write 1, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   4012.30
Transfer/sec:    626.00KB
"""


def test_result_file_is_a_list_of_rows_with_the_issue_schema(tmp_path):
    results = [
        make_result(
            "P1",
            "sqlite",
            value=1200.0,
            anchor=4000.0,
            unit="req/s",
            target=">= 0.25x; p99 <= 100 ms",
            met=True,
            p99_ms=40.0,
        ),
        make_result("P6", "postgresql", value=420.5, anchor=None, unit="s", target="<= 600 s", met=False),
    ]
    path = tmp_path / "bench-results.json"
    write_results(path, results)

    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, list) and len(loaded) == 2
    for row in loaded:
        assert set(RESULT_KEYS) <= set(row)
        assert isinstance(row["met"], bool)
    assert loaded[0] | {"details": None} == {
        "id": "P1",
        "database": "sqlite",
        "value": 1200.0,
        "anchor": 4000.0,
        "unit": "req/s",
        "ratio": 0.3,
        "target": ">= 0.25x; p99 <= 100 ms",
        "met": True,
        "details": None,
    }
    assert loaded[1]["anchor"] is None and loaded[1]["ratio"] is None


def test_result_writer_refuses_a_row_missing_a_field(tmp_path):
    with pytest.raises(ValueError, match="unit"):
        write_results(
            tmp_path / "out.json",
            [
                {
                    "id": "P1",
                    "database": "sqlite",
                    "value": 1,
                    "anchor": 1,
                    "ratio": 1,
                    "target": "x",
                    "met": True,
                }
            ],
        )


def test_table_shows_each_figure_next_to_its_anchor_and_ratio():
    table = format_table(
        [
            make_result(
                "P4", "sqlite", value=50_000, anchor=200_000, unit="rows/s", target=">= 0.25x", met=True
            )
        ]
    )
    header, _, line = table.splitlines()
    assert header.split()[:8] == ["id", "database", "value", "anchor", "unit", "ratio", "target", "met"]
    assert line.split()[:6] == ["P4", "sqlite", "50000.0", "200000.0", "rows/s", "0.25"]


def test_wrk_output_is_read_with_units_and_errors():
    result = parse_wrk(WRK_OUTPUT)
    assert result.requests == 40123
    assert result.rps == pytest.approx(4012.30)
    assert result.p50_ms == pytest.approx(11.5)
    assert result.p99_ms == pytest.approx(0.85)
    # connect + write + timeout + non-2xx; "read" errors are closed keep-alive connections.
    assert result.errors == 7


def test_a_row_whose_service_is_missing_is_reported_not_failed(monkeypatch, capsys, tmp_path):
    module = types.ModuleType("benchmarks.fake_row")

    def run(ctx):
        raise NotAvailable("portal.services.nothing is missing")

    module.run = run
    monkeypatch.setitem(sys.modules, "benchmarks.fake_row", module)
    ctx = bench_run.Context(database="sqlite", quick=True, workdir=tmp_path)

    assert bench_run.run_row("PX", "benchmarks.fake_row", ctx) == []
    assert "PX [sqlite] not available yet: portal.services.nothing is missing" in capsys.readouterr().out


def test_only_option_selects_rows_and_refuses_unknown_ones():
    assert [row for row, _ in bench_run.selected_rows("p1, P3a")] == ["P1", "P3a"]
    with pytest.raises(SystemExit):
        bench_run.selected_rows("P9")


def test_flow_client_fills_a_step_form_from_the_candidate():
    html = """<form method="post" action="/inscription/fermer">
      <input type="hidden" name="csrf_token" value="a">
    </form>
    <form method="post" action="">
      <input type="hidden" name="csrf_token" value="tok">
      <input type="text" name="nom_naissance" value="">
      <input type="date" name="date_naissance">
      <input type="radio" name="sexe" value="F"><input type="radio" name="sexe" value="M">
      <input type="radio" name="section_europeenne" value="oui">
      <input type="radio" name="section_europeenne" value="non">
      <select name="specialite"><option value="">Choisir</option><option value="12">BCP</option></select>
    </form>"""
    from datetime import date

    form = main_form(parse(html), "http://127.0.0.1/inscription/etape/identite")
    values = fill(form, {"nom_naissance": "Martin", "date_naissance": date(2008, 5, 17), "sexe": "M"})
    assert values == {
        "csrf_token": "tok",
        "nom_naissance": "Martin",
        "date_naissance": "2008-05-17",
        "sexe": "M",
        "section_europeenne": "non",
        "specialite": "12",
    }


def test_the_portal_has_no_bench_routes(app, client):
    assert not any(rule.endpoint.startswith("bench.") for rule in app.url_map.iter_rules())
    assert client.get("/bench/hello").status_code == 404
    assert client.post("/bench/insert").status_code in (404, 405)


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_bench_routes_of_the_benchmarks_app_answer_without_a_csrf_token(app):
    client = register_anchors(app).test_client()
    hello = client.get("/bench/hello")
    assert hello.status_code == 200 and hello.data == b"ok"

    assert client.post("/bench/insert").status_code == 200
    before = db.session.execute(text("SELECT count(*) FROM bench_rows")).scalar_one()
    db.session.rollback()
    assert client.post("/bench/insert").status_code == 200
    assert db.session.execute(text("SELECT count(*) FROM bench_rows")).scalar_one() == before + 1
