"""Production settings for ``gunicorn wsgi:app`` (override with GUNICORN_* variables)."""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the pages are CPU-bound; about two per core. Each login check may use
# ~32 MB for scrypt: size the machine for workers x 32 MB on top of the app.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
# Long PDF batches are bounded by this; a stuck render is killed and the worker replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
# Only the local reverse proxy may set X-Forwarded-* (see PROXY_FIX_HOPS).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
