"""Manager routes: dechargements (being built)."""
from .. import bp  # noqa: F401
