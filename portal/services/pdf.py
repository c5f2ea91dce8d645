"""PDF rendering with WeasyPrint, unable to reach files or the network.

Templates under ``templates/pdf/`` are rendered by Jinja (autoescape on), so user data
only ever reaches WeasyPrint as escaped text. The URL fetcher serves files under
``portal/static`` through the ``app-static:`` prefix and refuses every other URL and
scheme (``file:``, ``http:``, ``data:`` ...). One font configuration serves every render
of the process.
"""
from __future__ import annotations

import io
import mimetypes
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pikepdf
from flask import render_template
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_DIR = (Path(__file__).resolve().parent.parent / "static").resolve()
PREFIX = "app-static:"


class RefusedURL(ValueError):
    """Raised for any URL outside the bundled static files: the resource is skipped."""


class SafeFetcher(URLFetcher):
    def __init__(self) -> None:
        super().__init__(timeout=5, allowed_protocols=("app-static",), allow_redirects=False)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:  # noqa: ARG002
        if not url.startswith(PREFIX):
            raise RefusedURL(f"URL refusée : {url[:80]}")
        relative = url[len(PREFIX):].lstrip("/")
        path = (STATIC_DIR / relative).resolve()
        if not path.is_relative_to(STATIC_DIR) or not path.is_file():
            raise RefusedURL(f"Fichier refusé : {relative[:80]}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})


@lru_cache(maxsize=1)
def font_config() -> FontConfiguration:
    return FontConfiguration()


def html_to_document(html: str):
    """Lay out ``html`` (a WeasyPrint ``Document``: its ``pages``, ``write_pdf()``)."""
    document = HTML(string=html, base_url=PREFIX + "/", url_fetcher=SafeFetcher())
    return document.render(font_config=font_config())


def html_to_pdf(html: str) -> bytes:
    return html_to_document(html).write_pdf()


def render_pdf(template: str, **context) -> bytes:
    """Render ``templates/pdf/<template>`` to PDF bytes."""
    return html_to_pdf(render_template(f"pdf/{template}", **context))


def render_pdf_pages(template: str, **context) -> tuple[bytes, int]:
    """Like ``render_pdf``, with the number of pages (without parsing the PDF again)."""
    document = html_to_document(render_template(f"pdf/{template}", **context))
    return document.write_pdf(), len(document.pages)


def merge_pdfs(parts: Iterable[bytes]) -> bytes:
    """Concatenate already rendered PDFs (stored confirmations) into one document.

    qpdf (through pikepdf) copies each part's objects without parsing them in Python:
    about 10 ms a part, where pypdf's ``PdfWriter.append`` took 60-80 ms (500 one-page
    confirmations: ~7 s instead of ~40 s on a loaded 2-core machine)."""
    merged = pikepdf.Pdf.new()
    sources = []  # kept open: their streams are read when the merged document is written
    try:
        for part in parts:
            source = pikepdf.Pdf.open(io.BytesIO(part))
            sources.append(source)
            merged.pages.extend(source.pages)
        out = io.BytesIO()
        merged.save(out)
    finally:
        for source in sources:
            source.close()
        merged.close()
    return out.getvalue()
