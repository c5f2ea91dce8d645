"""Command-line entry points of the manager service (registered by ``portal.commands``)."""
from __future__ import annotations

from .cli_dechargements import export_group, recompute_statuses

# Every command of the manager service; each area adds its own here.
COMMANDS = [export_group, recompute_statuses]
