"""Routes of the manager service, one module per area."""
from . import campagne, catalogue, chargements, comptes, dechargements, suivi  # noqa: F401
