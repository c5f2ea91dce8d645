"""PDF rendering can reach neither local files nor the network (SECURITY item 29)."""
from __future__ import annotations

import http.server
import io
import threading

import pytest
from pypdf import PdfReader

from portal.services.pdf import RefusedURL, SafeFetcher, html_to_pdf


@pytest.fixture
def canary():
    """A loopback HTTP server counting every request it receives."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"root:x:0:0")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1/", "https://example.org/x.png",
                                 "data:text/plain,hello", "ftp://127.0.0.1/x", "app-static:../../etc/passwd",
                                 "app-static:/../config.py"])
def test_fetcher_refuses_everything_but_bundled_static_files(url):
    with pytest.raises(RefusedURL):
        SafeFetcher().fetch(url)


def test_hostile_markup_in_the_html_fetches_nothing(app, canary):
    base, hits = canary
    html = (f'<p>X</p><img src="file:///etc/passwd"><link rel="attachment" href="file:///etc/hostname">'
            f'<link rel="stylesheet" href="{base}/x.css"><img src="{base}/i.png">'
            f'<style>@import url("{base}/y.css"); p {{ background: url("{base}/z.png") }}</style>')
    pdf = html_to_pdf(html)
    reader = PdfReader(io.BytesIO(pdf))
    assert hits == []
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"])
    assert "root:x:0:0" not in "".join(page.extract_text() for page in reader.pages)
