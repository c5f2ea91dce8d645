"""The WSGI application the benchmarks serve (``gunicorn benchmarks.app:app``): the portal
as ``wsgi.py`` builds it, plus the anchor routes of ``benchmarks/anchors.py``."""
from benchmarks.anchors import register_anchors
from portal import create_app

app = register_anchors(create_app())
