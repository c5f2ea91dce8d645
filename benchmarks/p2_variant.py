"""The portal with parts of the registration POST left out on purpose, served by gunicorn
for ``python -m benchmarks.p2_parts --served`` only (``benchmarks.p2_variant:app``): the
environment variable ``P2_VARIANT`` lists the parts left out, comma-separated, among the
keys of ``p2_parts.LEFT_OUT``. Never an entry point of the portal."""

import os
from contextlib import ExitStack

from benchmarks.p2_parts import LEFT_OUT

# Kept open for the life of the worker: the parts stay left out.
_left_out = ExitStack()
for _part in filter(None, os.environ.get("P2_VARIANT", "").split(",")):
    _left_out.enter_context(LEFT_OUT[_part]())

from benchmarks.app import app  # noqa: E402,F401
