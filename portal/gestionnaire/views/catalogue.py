"""Manager routes: catalogue (being built)."""
from .. import bp  # noqa: F401
