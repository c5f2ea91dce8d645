"""The uploaded file, kept server-side under a random name between preview and apply.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app

from .. import ServiceError
from .contexte import UPLOAD_MAX_AGE


# --- the uploaded file, kept server-side between preview and apply ------------------------


def upload_dir() -> Path:
    configured = current_app.config.get("CHARGEMENTS_DIR")
    folder = Path(configured) if configured else Path(current_app.instance_path) / "chargements"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _jeton_valide(jeton: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", jeton or ""):
        raise ServiceError("Aperçu introuvable ou expiré : déposez le fichier à nouveau.")
    return jeton


def file_path(jeton: str) -> Path:
    return upload_dir() / f"{_jeton_valide(jeton)}.csv"


def _meta_path(jeton: str) -> Path:
    return upload_dir() / f"{_jeton_valide(jeton)}.json"


def clean_name(nom: str | None) -> str:
    """The user's file name, for display only (it never becomes a path)."""
    base = re.split(r"[\\/]", nom or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return (base or "fichier.csv")[:255]


def store_upload(stream: BinaryIO, nom: str | None) -> dict[str, Any]:
    """Copy the upload in chunks to a file named by a random id, hashing it on the way."""
    purge_old_uploads()
    jeton = uuid.uuid4().hex
    digest = hashlib.sha256()
    taille = 0
    with open(file_path(jeton), "wb") as out:
        while chunk := stream.read(64 * 1024):
            digest.update(chunk)
            taille += len(chunk)
            out.write(chunk)
    return {"jeton": jeton, "nom": clean_name(nom), "sha256": digest.hexdigest(), "taille": taille}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(64 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def load_preview(jeton: str) -> dict[str, Any] | None:
    try:
        return json.loads(_meta_path(jeton).read_text(encoding="utf-8"))
    except (FileNotFoundError, ServiceError, ValueError):
        return None


def save_preview(meta: dict[str, Any]) -> None:
    _meta_path(meta["jeton"]).write_text(json.dumps(meta, ensure_ascii=False, default=str), encoding="utf-8")


def discard_preview(jeton: str) -> None:
    for path in (file_path(jeton), _meta_path(jeton)):
        path.unlink(missing_ok=True)


def purge_old_uploads() -> None:
    """Files of previews nobody applied nor abandoned are removed after a day."""
    limit = time.time() - UPLOAD_MAX_AGE
    for path in upload_dir().glob("*.*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:  # pragma: no cover - removed meanwhile
            pass
