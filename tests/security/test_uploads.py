"""Uploads of the three CSV loads (SECURITY items 24, 25 and 26).

Hypothesis sends random bytes and random CSV-like text (right or wrong header, random
delimiters, quotes, control characters, huge fields) in random encodings: never a 500;
a refused file writes nothing but its failed exchange (and the audit of it); a file that
passes the preview either loads whole or is refused whole. Over-long bodies and forms
with too many parts get a 413.
"""
from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.services.chargements import COLONNES
from tests.gestionnaire.chargements_support import (  # noqa: F401
    app_overrides,
    catalogue,
    gestionnaire,
    manager_client,
    upload,
)
from tests.security.test_fuzz import NASTY, row_counts

SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "utf-16-le", "ascii"]
CELL = st.one_of(st.sampled_from(NASTY[:-20]), st.text(max_size=30),
                 st.sampled_from(["oui", "non", "CAP", "BCP", "MELEC", "F", "D", "0130001A", "123456789AB",
                                  "17/05/2008", "2008-05-17", "BCP:MELEC|CAP:CUISINE", "LP", '"', '""', ";"]))


def csv_text(type_: str) -> st.SearchStrategy[str]:
    required, optional = COLONNES[type_]
    header = st.one_of(st.just(list(required + optional)), st.just(list(required)),
                       st.lists(st.sampled_from(list(required + optional) + ["x", ""]), max_size=12),
                       st.lists(st.text(max_size=10), max_size=5))
    rows = st.lists(st.lists(CELL, max_size=12), max_size=15)
    return st.tuples(header, rows, st.sampled_from([";", ",", "\t", "|"]), st.sampled_from(["\n", "\r\n", "\r"])) \
        .map(lambda t: t[3].join(t[2].join(line) for line in [t[0], *t[1]]))


def encoded(type_: str) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=2000),
        st.tuples(csv_text(type_), st.sampled_from(ENCODINGS)).map(lambda p: p[0].encode(p[1], errors="ignore")),
        st.sampled_from([b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", b"PK\x03\x04\x14\x00\x00\x00", b"",
                         b"\xef\xbb\xbf", b"\x00" * 100, b"\xff\xfe" + "é;à\n".encode("utf-16-le")]),
    )


@pytest.mark.parametrize("type_", ["specialites", "etablissements", "eleves"])
def test_any_uploaded_file_is_refused_cleanly_or_loaded_whole(manager_client, catalogue, type_):
    @SETTINGS
    @given(content=encoded(type_), name=st.sampled_from(["f.csv", "../../etc/x.csv", "a\x00b.csv", "é.CSV",
                                                           "x" * 300 + ".csv", ""]))
    def run(content, name):
        before = row_counts()
        response = upload(manager_client, content, type_, name=name or "f.csv",
                          etablissement="0130001A" if type_ == "eleves" else "")
        assert response.status_code in (200, 302, 400), response.get_data(as_text=True)[:800]
        after = row_counts()
        changed = {k for k in before if before[k] != after[k]}
        assert changed <= {"echanges"} and after["echanges"] - before["echanges"] <= 1
        if response.status_code == 302 and "/chargements/" in response.headers["Location"]:
            preview = manager_client.get(response.headers["Location"])
            assert preview.status_code == 200
            applied = manager_client.post(response.headers["Location"] + "/appliquer")
            assert applied.status_code == 302
            db.session.rollback()

    run()


def test_a_body_over_the_limit_gets_413(app, manager_client, catalogue):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    before = row_counts()
    response = upload(manager_client, b"ine;nom\n" + b"x" * (1024 * 1024 + 1), "eleves", etablissement="0130001A")
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)
    assert row_counts() == before


def test_a_form_with_two_thousand_parts_gets_413(app, manager_client, catalogue):
    data = {f"champ{i}": "x" for i in range(2000)}
    data.update({"type": "eleves", "etablissement": "0130001A", "fichier": (io.BytesIO(b"ine\n"), "f.csv")})
    before = row_counts()
    response = manager_client.post("/gestionnaire/chargements", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert row_counts() == before


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_form_fields_over_the_memory_limit_get_413(app, manager_client, catalogue, content_type):
    """Werkzeug bounds multipart text parts only: other bodies are bounded by the app."""
    response = manager_client.post("/gestionnaire/verrou", data={"motif": "x" * (2 * 1024 * 1024)},
                                   content_type=content_type)
    assert response.status_code == 413
    assert manager_client.post("/gestionnaire/verrou", data={"motif": "court"}).status_code == 302


def test_flask_knows_the_form_limits_it_is_given(app):
    from flask import Request

    assert app.config["MAX_FORM_PARTS"] == 1000 and app.config["MAX_FORM_MEMORY_SIZE"] == 1024 * 1024
    assert hasattr(Request, "max_form_parts") and hasattr(Request, "max_form_memory_size")


@pytest.mark.parametrize("path", ["/gestionnaire/chargements", "/gestionnaire/chargements/" + "0" * 32 + "/appliquer",
                                  "/gestionnaire/verrou", "/gestionnaire/verrou/lever"])
def test_loads_and_lock_need_a_recent_login(manager_client, catalogue, path):
    """Item 14: bulk import and lock/unlock ask for the password again after 15 minutes."""
    with manager_client.session_transaction() as sess:
        sess["login_at"] = float(sess["login_at"]) - 20 * 60
    before = row_counts()
    response = manager_client.post(path, data={"type": "eleves", "motif": "x"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/gestionnaire/reauthentification")
    assert row_counts() == before
