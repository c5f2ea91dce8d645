"""Confirmations of registration (PDF, A4), one per version ``N-V``.

A confirmation is rendered once for the current version and its bytes are kept in
``ConfirmationPdf``: printing it again gives the very same document. While the database
is locked the PDF is rendered but not stored (the portal is read-only then).
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from flask import has_request_context, url_for
from pypdf import PdfReader
from sqlalchemy import select, tuple_
from sqlalchemy.orm import undefer

from ..extensions import db
from ..models import ConfirmationPdf, Inscription, InscriptionVersion, utcnow
from ..formatting import format_datetime
from . import inscriptions, pdf, verrou


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def verification_url() -> str:
    if has_request_context():
        return url_for("public.verify", _external=True)
    return "/public/verifier"


def _current_version(inscription: Inscription) -> InscriptionVersion | None:
    """From ``inscription.versions`` (callers of a batch load them with selectinload)."""
    return next((v for v in inscription.versions if v.version == inscription.version), None)


def context(inscription: Inscription) -> dict:
    """What the confirmation template prints for the current version."""
    version = _current_version(inscription)
    session_examen = inscription.session
    candidat = inscription.candidat
    return {
        "inscription": inscription,
        "candidat": candidat,
        "session_examen": session_examen,
        "session_label": session_examen.libelle,
        "etablissement": inscription.etablissement,
        "version_at": format_datetime(version.created_at if version else inscription.updated_at),
        "code_verification": inscriptions.format_verification_code(version.code_verification) if version else "",
        "verification_url": verification_url(),
        "mineur": age_on(candidat.date_naissance, session_examen.date_examen) < 18,
        "document_title": f"Confirmation d'inscription {inscription.numero_version}",
        "generated_at": format_datetime(utcnow()),
    }


def render(inscription: Inscription) -> bytes:
    return pdf.render_pdf("confirmation.html", **context(inscription))


def _store(inscription: Inscription, content: bytes) -> None:
    if verrou.current() is not None:
        return
    pages = len(PdfReader(io.BytesIO(content)).pages)
    db.session.add(ConfirmationPdf(inscription_id=inscription.id, version=inscription.version,
                                   contenu=content, pages=pages))
    db.session.flush()


def confirmation_pdf(inscription: Inscription) -> bytes:
    """The confirmation of the current version: stored bytes if issued already, else rendered and stored."""
    stored = db.session.scalar(
        select(ConfirmationPdf).options(undefer(ConfirmationPdf.contenu))
        .where(ConfirmationPdf.inscription_id == inscription.id, ConfirmationPdf.version == inscription.version))
    if stored is not None:
        return stored.contenu
    content = render(inscription)
    _store(inscription, content)
    return content


def confirmations_batch(rows: Sequence[Inscription]) -> bytes:
    """One PDF holding the confirmations of ``rows`` in order (missing ones rendered and stored)."""
    keys = [(i.id, i.version) for i in rows]
    stored = {}
    if keys:
        found = db.session.scalars(
            select(ConfirmationPdf).options(undefer(ConfirmationPdf.contenu))
            .where(tuple_(ConfirmationPdf.inscription_id, ConfirmationPdf.version).in_(keys)))
        stored = {(c.inscription_id, c.version): c.contenu for c in found}
    parts = []
    for inscription in rows:
        content = stored.get((inscription.id, inscription.version))
        if content is None:
            content = render(inscription)
            _store(inscription, content)
        parts.append(content)
    return pdf.merge_pdfs(parts)
