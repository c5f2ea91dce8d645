"""Manager routes: campagne (being built)."""
from .. import bp  # noqa: F401
