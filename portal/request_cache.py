"""Values read once per request and kept in ``g`` for the rest of it.

Only for the duration of one request: nothing is kept between requests (several app
instances serve the portal, and managers change the calendar or the catalogue at any
time). Outside a request (commands, services called from tests) nothing is cached.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import g, has_request_context

T = TypeVar("T")
_STORE = "_request_cache"


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """``load()`` the first time ``key`` is asked for in this request, the same value afterwards."""
    if not has_request_context():
        return load()
    store = g.setdefault(_STORE, {})
    if key not in store:
        store[key] = load()
    return store[key]


def get(key: Hashable) -> object | None:
    """The value kept under ``key`` in this request, if any."""
    return g.get(_STORE, {}).get(key) if has_request_context() else None


def offer(key: Hashable, value: object) -> None:
    """Keep ``value`` under ``key`` for the rest of the request, unless one is kept already."""
    if has_request_context():
        g.setdefault(_STORE, {}).setdefault(key, value)


def forget() -> None:
    """Drop every cached value (after a write that changes what they were read from)."""
    if has_request_context():
        g.pop(_STORE, None)
