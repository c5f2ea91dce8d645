"""Confirmations of registration (PDF, A4), one per version ``N-V``.

A confirmation is rendered once for the current version and its bytes are kept in
``ConfirmationPdf``: printing it again gives the very same document. While the database
is locked the PDF is rendered but not stored (the portal is read-only then).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import has_request_context, url_for
from sqlalchemy import select, tuple_

from ..extensions import db
from ..models import ConfirmationPdf, Inscription, InscriptionVersion, utcnow
from ..formatting import format_datetime
from . import inscriptions, pdf, verrou

BATCH_KEYS = 500  # (id, version) pairs per query of stored confirmations


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


def render_pages(inscription: Inscription) -> tuple[bytes, int]:
    """The confirmation's PDF and its number of pages."""
    return pdf.render_pdf_pages("confirmation.html", **context(inscription))


def render(inscription: Inscription) -> bytes:
    return render_pages(inscription)[0]


def _render_and_store(inscription: Inscription) -> bytes:
    content, pages = render_pages(inscription)
    if verrou.current() is None:
        db.session.add(ConfirmationPdf(inscription_id=inscription.id, version=inscription.version,
                                       contenu=content, pages=pages))
        db.session.flush()
    return content


def confirmation_pdf(inscription: Inscription) -> bytes:
    """The confirmation of the current version: stored bytes if issued already, else rendered and stored."""
    stored = db.session.scalar(
        select(ConfirmationPdf.contenu)
        .where(ConfirmationPdf.inscription_id == inscription.id, ConfirmationPdf.version == inscription.version))
    if stored is not None:
        return stored
    return _render_and_store(inscription)


def confirmations_batch(rows: Sequence[Inscription]) -> bytes:
    """One PDF holding the confirmations of ``rows`` in order (missing ones rendered and stored)."""
    keys = [(i.id, i.version) for i in rows]
    stored: dict[tuple[int, int], bytes] = {}
    key = tuple_(ConfirmationPdf.inscription_id, ConfirmationPdf.version)
    for start in range(0, len(keys), BATCH_KEYS):
        found = db.session.execute(
            select(ConfirmationPdf.inscription_id, ConfirmationPdf.version, ConfirmationPdf.contenu)
            .where(key.in_(keys[start:start + BATCH_KEYS])))
        stored.update(((i, v), contenu) for i, v, contenu in found)
    return pdf.merge_pdfs(stored.get((i.id, i.version)) or _render_and_store(i) for i in rows)
