"""Manager routes: chargements (being built)."""
from .. import bp  # noqa: F401
