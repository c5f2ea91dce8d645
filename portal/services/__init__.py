"""Domain rules. Services take models and plain values, flush and never commit;
they know nothing of requests, forms, flashes or redirects."""
from __future__ import annotations


class ServiceError(Exception):
    """A rule refused an action; ``field`` names the form field it concerns, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class DatabaseLocked(ServiceError):
    """The database is locked for a load or an unload: writes are refused."""

    def __init__(self, verrou=None):
        super().__init__(
            "La base est momentanément verrouillée pour une opération de chargement. "
            "Aucune modification n'a été enregistrée : réessayez dans quelques minutes."
        )
        self.verrou = verrou
