"""The audit trail: one structured row per state change or security event."""
from __future__ import annotations

import re
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import insert as sa_insert

from ..extensions import db
from ..models import AuditEvent

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Never written to the trail, whatever a caller passes.
_SECRET_KEYS = {"password", "mot_de_passe", "secret", "token", "csrf_token", "password_hash",
                "suivi_password_hash", "inscription_password_hash", "secret_hash", "session_token",
                "suivi_token", "inscription_token", "token_hash"}


def clean(value: Any) -> Any:
    """Escape control characters (newlines included) so a value cannot forge log lines."""
    if isinstance(value, str):
        return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    if isinstance(value, dict):
        return {k: ("***" if k in _SECRET_KEYS else clean(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def current_actor() -> dict[str, Any]:
    """The actor of the current request, as set by each blueprint's guard in ``g.actor``."""
    if has_request_context() and getattr(g, "actor", None):
        return dict(g.actor)
    if has_request_context():
        return {"type": "anonyme", "id": None, "label": "anonyme"}
    return {"type": "systeme", "id": None, "label": "système"}


def _etablissement_code_of(objet: Any) -> str | None:
    if objet is None:
        return None
    if type(objet).__name__ == "Etablissement":
        return objet.code
    etab = getattr(objet, "etablissement", None)
    return getattr(etab, "code", None)


def _values(action: str, objet: Any, *, outcome: str, details: dict[str, Any] | None,
            actor: dict[str, Any] | None, etablissement_code: str | None, objet_type: str | None,
            objet_id: Any) -> dict[str, Any]:
    who = actor or current_actor()
    if objet is not None:
        objet_type = objet_type or type(objet).__name__
        objet_id = objet_id if objet_id is not None else getattr(objet, "id", None)
    if etablissement_code is None:
        etablissement_code = who.get("etablissement_code") or _etablissement_code_of(objet)
    return {
        "actor_type": who.get("type", "anonyme"),
        "actor_id": None if who.get("id") is None else str(who["id"])[:64],
        "actor_label": clean(str(who.get("label") or "anonyme"))[:254],
        "etablissement_code": etablissement_code,
        "ip": request.remote_addr if has_request_context() else None,
        "action": action,
        "objet_type": objet_type,
        "objet_id": None if objet_id is None else clean(str(objet_id))[:64],
        "outcome": outcome,
        "details": clean(details) if details else None,
    }


def record(
    action: str,
    objet: Any = None,
    *,
    outcome: str = "succes",
    details: dict[str, Any] | None = None,
    actor: dict[str, Any] | None = None,
    etablissement_code: str | None = None,
    objet_type: str | None = None,
    objet_id: Any = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the request commits it)."""
    event = AuditEvent(**_values(action, objet, outcome=outcome, details=details, actor=actor,
                                 etablissement_code=etablissement_code, objet_type=objet_type,
                                 objet_id=objet_id))
    db.session.add(event)
    return event


_INSERT = sa_insert(AuditEvent.__table__)


def insert(action: str, *, objet_type: str, objet_id: Any, details: dict[str, Any] | None = None,
           etablissement_code: str | None = None, outcome: str = "succes") -> None:
    """The same event as ``record``, written at once by one INSERT (no ORM object): for the
    registration path, where it runs while SQLite's write lock is held."""
    db.session.connection().execute(_INSERT, _values(
        action, None, outcome=outcome, details=details, actor=None, etablissement_code=etablissement_code,
        objet_type=objet_type, objet_id=objet_id))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The before/after of the fields that changed."""
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    return {
        "avant": {k: before.get(k) for k in sorted(changed)},
        "apres": {k: after.get(k) for k in sorted(changed)},
    }
