"""Routes of the manager service, one module per area, and the menu every page shows
(``navigation``, a context processor of the blueprint)."""
from .. import navigation  # noqa: F401
from . import campagne, catalogue, chargements, comptes, dechargements, suivi  # noqa: F401
