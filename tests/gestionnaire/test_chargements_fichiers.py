"""Bad files through the manager pages: never a 500, never a half-written row."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Echange, EchangeTrace, Eleve
from portal.services.chargements import base_eleves

from .chargements_support import (  # noqa: F401
    ENTETE_ELEVES,
    catalogue,
    eleves_csv,
    exemple,
    gestionnaire,
    manager_client,
    upload,
)


@pytest.fixture
def app_overrides(tmp_path):
    return {"CHARGEMENTS_DIR": str(tmp_path / "chargements"), "MAX_CONTENT_LENGTH": 12 * 1024 * 1024}


def _preview_page(http, data, name="eleves.csv"):
    response = upload(http, data, name=name, etablissement="0130001A")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"], http.get(response.headers["Location"]).get_data(as_text=True)


def _count():
    return db.session.scalar(select(func.count(Eleve.id)))


@pytest.mark.parametrize("data, message", [
    (exemple("eleves.csv").decode().encode("utf-16"), "encodé en UTF-16"),
    (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "document PDF"),
    (b"", "Le fichier est vide"),
    (ENTETE_ELEVES.encode(), "que la ligne d&#39;en-tête"),
    (b"ine;nom;prenoms;examen;decision\n123456789AB;A;B;BCP;F\n", "absente de la ligne d&#39;en-tête : date_naissance"),
])
def test_unreadable_files_get_one_clear_message_and_import_nothing(manager_client, catalogue, data, message):
    _url, page = _preview_page(manager_client, data)
    assert "Fichier refusé : 1 erreur" in page and message in page
    assert "Appliquer le chargement" not in page
    assert _count() == 0


def test_windows_1252_and_utf8_bom_files_are_accepted(manager_client, catalogue):
    text = exemple("eleves.csv").decode("utf-8")
    for data in (text.encode("cp1252"), b"\xef\xbb\xbf" + text.encode("utf-8")):
        _url, page = _preview_page(manager_client, data)
        assert "Aucune erreur dans les 4 ligne(s)" in page and "MARTIN Léa Camille" in page


def test_duplicate_pupils_are_reported_with_both_lines(manager_client, catalogue):
    data = eleves_csv("123456789AB;Martin;Léa;17/05/2008;BCP;MELEC;F;",
                      "123456789AB;Martin;Léa;17/05/2008;BCP;MELEC;F;")
    _url, page = _preview_page(manager_client, data)
    assert "Doublon : même INE et même examen qu&#39;à la ligne 2." in page and "<td>3</td>" in page


def test_ten_megabyte_field_is_refused_cleanly(manager_client, catalogue):
    data = eleves_csv("123456789AB;" + "x" * (10 * 1024 * 1024) + ";Léa;17/05/2008;BCP;MELEC;F;",
                      "234567890BC;Bernard;Hugo;02/11/2007;BCP;COMMERCE;S;")
    _url, page = _preview_page(manager_client, data)
    assert "La ligne est trop longue" in page and "<td>2</td>" in page
    assert _count() == 0


def test_upload_over_the_size_limit_gets_a_french_413_and_leaves_no_file(manager_client, catalogue, tmp_path):
    response = upload(manager_client, b"x" * (13 * 1024 * 1024), etablissement="0130001A")
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)
    assert not list((tmp_path / "chargements").glob("*.csv"))


def test_user_file_name_is_never_a_path(manager_client, catalogue, tmp_path):
    _url, page = _preview_page(manager_client, exemple("eleves.csv"), name="../../etc/x.csv")
    stored = list((tmp_path / "chargements").glob("*.csv"))
    assert len(stored) == 1 and len(stored[0].stem) == 32 and stored[0].parent == tmp_path / "chargements"
    assert "Fichier « x.csv »" in page


def test_error_on_line_500_imports_nothing_and_is_named(manager_client, catalogue):
    lines = [f"{100000000 + i:09d}AB;Nom{i};Prénom;01/01/2008;BCP;;F;" for i in range(700)]
    lines[498] = "100000498AB;Nom;Prénom;01/01/2008;BCP;;X;"
    url, page = _preview_page(manager_client, eleves_csv(*lines))
    assert "<td>500</td>" in page and "<td>decision</td>" in page
    manager_client.post(url + "/appliquer")
    assert _count() == 0


def test_file_changed_between_preview_and_apply_is_refused(manager_client, catalogue, tmp_path):
    url, _page = _preview_page(manager_client, exemple("eleves.csv"))
    stored = next((tmp_path / "chargements").glob("*.csv"))
    stored.write_bytes(eleves_csv("999999999ZZ;Intrus;Eve;01/01/2008;BCP;;F;"))
    response = manager_client.post(url + "/appliquer")
    assert "a changé depuis l&#39;aperçu" in manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert _count() == 0


def test_exception_in_the_write_phase_writes_nothing_and_marks_the_exchange_failed(
        manager_client, catalogue, monkeypatch):
    original = base_eleves.Ecriture.update
    calls = {"n": 0}

    def failing(self):
        # The new pupils and their traces are written by now: the failure must undo them.
        calls["n"] += 1
        assert _count() == 4
        raise RuntimeError("disque plein")

    monkeypatch.setattr(base_eleves.Ecriture, "update", failing)
    url, _page = _preview_page(manager_client, exemple("eleves.csv"))
    response = manager_client.post(url + "/appliquer")
    assert response.status_code == 302
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "rien n&#39;a été enregistré" in page
    assert calls["n"] == 1 and _count() == 0
    echange = db.session.scalars(select(Echange).order_by(Echange.id.desc())).first()
    assert echange.etat == "echec" and "rien n'a été enregistré" in echange.message
    traces = select(func.count(EchangeTrace.id)).where(EchangeTrace.echange_id == echange.id)
    assert db.session.scalar(traces) == 0
    # The same file loads once the cause is gone.
    monkeypatch.setattr(base_eleves.Ecriture, "update", original)
    manager_client.post(_preview_page(manager_client, exemple("eleves.csv"))[0] + "/appliquer")
    assert _count() == 4


def test_another_managers_preview_is_not_found(manager_client, catalogue, make_gestionnaire, client):
    url, _page = _preview_page(manager_client, exemple("eleves.csv"))
    other = make_gestionnaire()
    with manager_client.session_transaction() as session:
        session["_user_id"] = other.get_id()
    assert manager_client.get(url).status_code == 404
    assert manager_client.post(url + "/appliquer").status_code == 404
    assert manager_client.get("/gestionnaire/chargements/..%2F..%2Fetc").status_code == 404
