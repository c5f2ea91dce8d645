"""French alphabetical order, as a sort key computed once when a row is written.

Lists are ordered by the database on these keys (``ORDER BY cle_tri``), so that SQLite
and PostgreSQL give the same order whatever their collation, and no request sorts in
Python. The key follows the Unicode Collation Algorithm (pyuca, pure Python, with the
DUCET table it ships): accents and case only count where the letters are equal
(``Bénard`` among the B, ``Émery`` among the E, ``dupont`` beside ``Dupont``), and, as in
a French directory, spaces, apostrophes, hyphens and dots are not letters
(``D'Alembert`` files as ``Dalembert``, ``Le Gall`` as ``Legall``).

A key of several parts (name, then first names) compares the letters of every part
before any accent, and the accents of every part before any case: ``Dupont Émile``
comes before ``dupont Eric``.

The key is bytes: 16-bit weights, big-endian, compared byte by byte by both databases
(``bytea`` and ``BLOB``). ``0`` separates the levels, ``1`` the parts.
"""
from __future__ import annotations

import re
import sys
import unicodedata
from array import array
from functools import lru_cache

_IGNORED = re.compile(r"[\s'’‘`´ʼ\-‐‑–—.]+")
_LEVELS = 3  # letters, accents, case
_collator = None


def _get_collator():
    """The pyuca collator, loaded once per process (its table takes ~0.1 s to read)."""
    global _collator
    if _collator is None:
        from pyuca import Collator

        _collator = Collator()
    return _collator


@lru_cache(maxsize=65536)
def _weights(part: str) -> tuple[tuple[int, ...], ...]:
    """The weights of one part, level by level (cached: names repeat, in a base of
    100,000 pupils most surnames and first names are met many times)."""
    text = unicodedata.normalize("NFD", _IGNORED.sub("", part or ""))
    elements = _get_collator().collation_elements(text)
    return tuple(tuple(element[level] for element in elements if len(element) > level and element[level])
                 for level in range(_LEVELS))


def cle_tri(*parts: str | None) -> bytes:
    """The sort key of ``parts`` (e.g. name, first names) in French alphabetical order."""
    weights = [_weights(part or "") for part in parts]
    key = array("H")
    for level in range(_LEVELS):
        if level:
            key.append(0)
        for index, part in enumerate(weights):
            if index:
                key.append(1)
            key.extend(part[level])
    if sys.byteorder == "little":
        key.byteswap()
    return key.tobytes()
