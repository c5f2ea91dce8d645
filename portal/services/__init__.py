"""Domain rules. Services take models and plain values, flush and never commit;
they know nothing of requests, forms, flashes or redirects."""
from __future__ import annotations

from ..formatting import format_datetime


class ServiceError(Exception):
    """A rule refused an action; ``field`` names the form field it concerns, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class DatabaseLocked(ServiceError):
    """The database is locked for a load or an unload: writes are refused.

    The lock's facts are copied as plain values when the refusal is raised (the error page
    renders them after the transaction was rolled back, which expires the Verrou row):
    ``depuis`` and ``expire_at`` (naive UTC), ``motif``."""

    def __init__(self, verrou=None):
        self.verrou = verrou
        self.depuis = getattr(verrou, "depuis", None)
        self.expire_at = getattr(verrou, "expire_at", None)
        self.motif = (getattr(verrou, "motif", "") or "").strip()
        super().__init__(self._message())

    def _message(self) -> str:
        return self.situation(" : aucune modification n'a été enregistrée.") + " La consultation reste possible."

    def situation(self, consequence: str = ".") -> str:
        """Since when, why and until when the database is locked, in French."""
        depuis = f" depuis le {format_datetime(self.depuis)}" if self.depuis else ""
        motif = f" ({self.motif})" if self.motif else ""
        fin = (f" Il sera levé à la fin de l'opération, au plus tard le {format_datetime(self.expire_at)}."
               if self.expire_at else " Il sera levé à la fin de l'opération.")
        return (f"La base est verrouillée{depuis} pour une opération de chargement des services académiques"
                f"{motif}{consequence}{fin}")
