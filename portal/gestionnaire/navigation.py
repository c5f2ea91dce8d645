"""The manager menu, and what every manager page shows (menu, account, lock banner)."""
from __future__ import annotations

from typing import Any

from flask import current_app, g, request, url_for

from ..formatting import format_datetime
from ..services import verrou
from . import bp

# (key, label, endpoint, admin only)
MENU = (
    ("tableau", "Tableau de bord", "gestionnaire.index", False),
    ("campagne", "Campagne", "gestionnaire.show_campagne", False),
    ("calendrier", "Calendrier", "gestionnaire.show_calendrier", False),
    ("etablissements", "Établissements", "gestionnaire.list_etablissements", False),
    ("laissez_passer", "Laissez-passer", "gestionnaire.list_laissez_passer", False),
    ("chargements", "Chargements", "gestionnaire.list_echanges", False),
    ("dechargements", "Déchargements", "gestionnaire.list_dechargements", False),
    ("catalogue", "Catalogue", "gestionnaire.list_catalogue", False),
    ("journal", "Journal d'audit", "gestionnaire.list_audit", False),
    ("comptes", "Comptes", "gestionnaire.list_comptes", True),
)

# Views of this package are grouped by module; a few belong to a more precise menu entry.
_ACTIVE_BY_ENDPOINT = {
    "gestionnaire.index": "tableau",
    "gestionnaire.show_calendrier": "calendrier",
    "gestionnaire.edit_ouverture": "calendrier",
    "gestionnaire.list_autorisations": "calendrier",
    "gestionnaire.list_audit": "journal",
    "gestionnaire.list_laissez_passer": "laissez_passer",
}
_ACTIVE_BY_MODULE = {
    "comptes": "comptes", "campagne": "campagne", "suivi": "etablissements",
    "chargements": "chargements", "dechargements": "dechargements", "catalogue": "catalogue",
}


def nav_items(active: str | None, *, admin: bool = False) -> list[dict[str, Any]]:
    """Menu entries for base.html; entries whose page does not exist yet are left out."""
    items = []
    for key, label, endpoint, admin_only in MENU:
        if admin_only and not admin:
            continue
        items.append({"label": label, "url": url_for(endpoint), "current": key == active})
    return items


def active_entry() -> str | None:
    endpoint = request.endpoint or ""
    if endpoint in _ACTIVE_BY_ENDPOINT:
        return _ACTIVE_BY_ENDPOINT[endpoint]
    view = current_app.view_functions.get(endpoint)
    module = getattr(view, "__module__", "").rsplit(".", 1)[-1]
    return _ACTIVE_BY_MODULE.get(module)


def lock_banner() -> dict[str, str] | None:
    lock = verrou.current()
    if lock is None:
        return None
    return {
        "title": "Base verrouillée",
        "message": f"Verrouillée par {lock.acteur} depuis le {format_datetime(lock.depuis)}"
                   f" (expiration automatique le {format_datetime(lock.expire_at)} sans activité)"
                   f"{' : ' + lock.motif if lock.motif else ''}. Les autres services sont en consultation seule.",
    }


@bp.context_processor
def manager_page_context() -> dict[str, Any]:
    compte = g.get("gestionnaire")
    if compte is None:
        return {}
    values: dict[str, Any] = {
        "logout_url": url_for("gestionnaire.logout"),
        "account_label": f"{compte.nom} ({compte.email})",
        "maintenance": lock_banner(),
    }
    if not compte.must_change_password:
        values["nav_items"] = nav_items(active_entry(), admin=compte.is_admin)
    return values
