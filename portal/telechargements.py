"""The one way the portal sends a file: always an attachment, never stored by a cache.

Content built in memory (PDF) goes through Flask's ``send_file``; content produced piece by
piece (CSV of any size) is streamed. Werkzeug writes the ``Content-Disposition`` header in
both cases (a name outside ASCII gets its RFC 6266 ``filename*`` form).
"""
from __future__ import annotations

import io
from collections.abc import Iterable

from flask import Response, send_file, stream_with_context


def telechargement(contenu: bytes | Iterable[str | bytes], nom: str, mimetype: str) -> Response:
    """A download response for ``contenu`` under the file name ``nom``."""
    if isinstance(contenu, bytes):
        response = send_file(io.BytesIO(contenu), mimetype=mimetype, as_attachment=True, download_name=nom)
    else:
        response = Response(stream_with_context(contenu), mimetype=mimetype)
        response.headers.set("Content-Disposition", "attachment", filename=nom)
    response.headers["Cache-Control"] = "no-store"
    return response
