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
import unicodedata
from functools import lru_cache

_IGNORED = re.compile(r"[\s'’‘`´ʼ\-‐‑–—.]+")
_LEVELS = 3  # letters, accents, case
_collator = None
_tables: list[_Level] = []
_contracting: frozenset[str] = frozenset()


class _Level(dict):
    """Code point -> the weights of that character at one level, as a string of 16-bit
    code points (``str.translate`` then does a whole name in C), filled on first use."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def __missing__(self, codepoint: int) -> str:
        character = chr(codepoint)
        value = "" if _IGNORED.fullmatch(character) else _join(_get_collator().collation_elements(character),
                                                                self.level)
        self[codepoint] = value
        return value


def _join(elements, level: int) -> str:
    return "".join(chr(element[level]) for element in elements if len(element) > level and element[level])


def _get_collator():
    """The pyuca collator, loaded once per process (its table takes ~0.1 s to read)."""
    global _collator, _tables, _contracting
    if _collator is None:
        from pyuca import Collator

        collator = Collator()
        root = collator.table.root.children
        # Characters that can end a contraction (``L·`` in Catalan, a breve in Cyrillic...):
        # a text without any is weighted character by character, as pyuca would.
        _contracting = frozenset(chr(second) for node in root.values() if node.children for second in node.children)
        _tables = [_Level(level) for level in range(_LEVELS)]
        _collator = collator
    return _collator


@lru_cache(maxsize=16384)
def _weights(part: str) -> tuple[str, ...]:
    """The weights of one part, level by level (cached: in a base of pupils most first
    names, and many surnames, are met many times)."""
    text = unicodedata.normalize("NFD", part)
    collator = _get_collator()
    if _contracting.isdisjoint(text):
        # Spaces, apostrophes... weigh nothing (see _Level), so they need no removal here.
        return (text.translate(_tables[0]), text.translate(_tables[1]), text.translate(_tables[2]))
    elements = collator.collation_elements(_IGNORED.sub("", text))
    return tuple(_join(elements, level) for level in range(_LEVELS))


def cle_tri(*parts: str | None) -> bytes:
    """The sort key of ``parts`` (e.g. name, first names) in French alphabetical order."""
    if len(parts) == 2:  # name and first names: the path of every pupil of a load
        a, b = _weights(parts[0] or ""), _weights(parts[1] or "")
        key = f"{a[0]}\x01{b[0]}\x00{a[1]}\x01{b[1]}\x00{a[2]}\x01{b[2]}"
    else:
        weights = [_weights(part or "") for part in parts]
        key = "\x00".join("\x01".join(part[level] for part in weights) for level in range(_LEVELS))
    # Weights are 16-bit: UTF-16 (surrogates passed through) writes each as two bytes.
    return key.encode("utf-16-be", "surrogatepass")
