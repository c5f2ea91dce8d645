"""Configuration read from the environment, with safe development defaults."""
from __future__ import annotations

import math
import os
from collections import Counter
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"

# Keys that must never be accepted outside development and tests.
KNOWN_WEAK_KEYS = {
    "",
    "dev",
    "changeme",
    "secret",
    "secret-key",
    "development-key",
    "dev-insecure-key-change-me-0123456789abcdef",
}
DEV_SECRET_KEY = "dev-insecure-key-change-me-0123456789abcdef"
SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_BITS = 128
SECRET_KEY_ADVICE = ("définissez une clé aléatoire d'au moins 32 caractères (par exemple "
                     "`python -c \"import secrets; print(secrets.token_urlsafe(48))\"`).")


def secret_key_entropy_bits(key: str) -> float:
    """An upper estimate of the key's entropy: Shannon entropy of its characters x length.

    It cannot prove a key random, but it refuses what is plainly not (``'a' * 40``, a
    short alphabet repeated); ``secrets.token_urlsafe(48)`` gives about 350 bits."""
    if not key:
        return 0.0
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_char * len(key)


def secret_key_problem(key: str | None) -> str | None:
    """Why a production SECRET_KEY is refused (in French), or None when it may be used."""
    key = key or ""
    if key in KNOWN_WEAK_KEYS:
        return "SECRET_KEY manquante ou connue : " + SECRET_KEY_ADVICE
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return "SECRET_KEY trop courte : " + SECRET_KEY_ADVICE
    if secret_key_entropy_bits(key) < SECRET_KEY_MIN_BITS:
        return ("SECRET_KEY trop prévisible (caractères répétés, alphabet trop réduit : moins de "
                f"{SECRET_KEY_MIN_BITS} bits d'entropie estimée) : " + SECRET_KEY_ADVICE)
    return None


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        INSTANCE_DIR.mkdir(exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'portal.sqlite'}"
    # Heroku-style URLs and bare "postgresql://" select psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = _database_url()
    # No pool_pre_ping: an SQLite file loses no connection, and PostgreSQL connections are
    # checked when taken from the pool by a statement whose answer is used (database.py).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    # Sessions: idle timeout through a permanent session refreshed at each request,
    # absolute timeout checked against the login time stored in the session.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "30")))
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=12)
    SESSION_REFRESH_EACH_REQUEST = True
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Remember-me is not offered; these only harden the cookie should it ever be set.
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(hours=1)
    # Sensitive manager actions need a login younger than this.
    FRESH_LOGIN_MAX_AGE = timedelta(minutes=15)

    WTF_CSRF_TIME_LIMIT = 4 * 3600
    WTF_CSRF_SSL_STRICT = True

    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024
    MAX_FORM_PARTS = 1000

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_ENABLED = True
    RATELIMIT_KEY_PREFIX = "portal"
    # Anonymous (public) registrations and drafts created from one client address, in the
    # rate-limit storage above: far above what a family, a library or a training centre's
    # computer room behind one address creates on a normal day.
    PUBLIC_INSCRIPTIONS_PER_ADDRESS = os.environ.get("PUBLIC_INSCRIPTIONS_PER_ADDRESS",
                                                     "40 per hour;120 per day")
    PUBLIC_DRAFTS_PER_ADDRESS = os.environ.get("PUBLIC_DRAFTS_PER_ADDRESS", "100 per hour;400 per day")

    PASSWORD_HASH_METHOD = "scrypt"
    # Number of reverse proxies in front of the app (X-Forwarded-For hops to trust).
    PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", "0"))
    HSTS = True
    # Database lock taken for loads and unloads expires if not refreshed for this long.
    LOCK_TTL = timedelta(minutes=int(os.environ.get("LOCK_TTL_MINUTES", "10")))
    ACADEMIE = os.environ.get("PORTAL_ACADEMIE", "Académie de démonstration")


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    HSTS = False


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-0123456789abcdef0123456789"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    # Fast hashing for the suite only; production keeps scrypt (a test asserts it).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    SERVER_NAME = None


def config_for_env() -> type[Config]:
    env = os.environ.get("PORTAL_ENV", "production").lower()
    return {"development": DevelopmentConfig, "testing": TestingConfig}.get(env, Config)
