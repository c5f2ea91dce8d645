"""Manager routes: suivi (being built)."""
from .. import bp  # noqa: F401
