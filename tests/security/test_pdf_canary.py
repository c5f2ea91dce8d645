"""Hostile markup typed in a candidate's identity never reaches a file or the network when
the real app renders its PDFs (SECURITY item 29, end to end).

The markup is split across the identity and address fields (each within its column
length); a loopback canary HTTP server counts every request it receives.
"""
from __future__ import annotations

import http.server
import io
import threading

import pytest
from pypdf import PdfReader

from portal.services import confirmations
from tests.conftest import STRONG_PASSWORD

FILE_IMG = '<img src="file:///etc/passwd">'
FILE_ATTACHMENT = '<link rel="attachment" href="file:///etc/hostname">'
IDENTITY = ("nom_naissance", "nom_usage", "prenom1", "prenom2")
ADDRESS = ("adresse1", "adresse2", "commune")


@pytest.fixture
def canary():
    """A loopback HTTP server recording every request path (its answer would look like /etc/passwd)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"root:x:0:0:root:/root:/bin/bash")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def hostile(canary):
    """The candidate fields, each holding one piece of the hostile markup."""
    base, _hits = canary
    stylesheet = f'<link rel="stylesheet" href="{base}/x.css">'
    image = f'<img src="{base}/i.png">'
    return {"nom_naissance": FILE_ATTACHMENT, "nom_usage": stylesheet, "prenom1": FILE_IMG, "prenom2": image,
            "adresse1": FILE_IMG + image, "adresse2": stylesheet, "commune": FILE_IMG}


@pytest.fixture
def setting(make_etablissement, make_specialite, session_examen, make_inscription, hostile):
    specialite = make_specialite("BCP", code="BCP777", libelle="Spécialité canari")
    etab = make_etablissement("0130777C", password=STRONG_PASSWORD, nom="Lycée du canari",
                              specialites=[specialite])
    inscription = make_inscription(session_examen, specialite, etab, candidat=hostile)
    return etab, specialite, inscription


@pytest.fixture
def head(client, setting):
    etab = setting[0]
    assert client.post("/etablissement/connexion",
                       data={"code": etab.code, "password": STRONG_PASSWORD}).status_code == 302
    return client


def _squeezed(text: str) -> str:
    """Text without whitespace: table cells wrap long values over several lines."""
    return "".join(text.split())


def assert_inert(pdf: bytes, hits: list[str], hostile: dict[str, str], shown: tuple[str, ...]) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    text = _squeezed("".join(page.extract_text() for page in reader.pages))
    assert hits == [], f"the renderer fetched {hits}"
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"].get("/Names", {}))
    assert not reader.attachments
    assert not any("/FileAttachment" in str(annot.get_object().get("/Subtype"))
                   for page in reader.pages for annot in (page.get("/Annots") or []))
    assert "root:x:0:0" not in text
    for field in shown:
        assert _squeezed(hostile[field]) in text, f"{field} is not printed as literal text"


def test_single_confirmation_prints_the_markup_as_text(app, setting, canary, hostile):
    _etab, _specialite, inscription = setting
    with app.test_request_context():
        pdf = confirmations.render(inscription)
    assert_inert(pdf, canary[1], hostile, IDENTITY + ADDRESS)


def test_specialty_batch_of_confirmations_fetches_nothing(head, setting, canary, hostile):
    specialite = setting[1]
    response = head.get(f"/etablissement/confirmations/pdf?specialite={specialite.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert_inert(response.data, canary[1], hostile, IDENTITY + ADDRESS)


@pytest.mark.parametrize("kind", ["alphabetique", "specialite"])
def test_establishment_list_pdf_fetches_nothing(head, setting, canary, hostile, kind):
    specialite = setting[1]
    response = head.get(f"/etablissement/listes/{kind}/pdf?specialite={specialite.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert_inert(response.data, canary[1], hostile, IDENTITY)
