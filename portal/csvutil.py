"""CSV responses in the French spreadsheet dialect: ';', UTF-8 with BOM, formulas neutralised."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response

from .telechargements import telechargement

# First characters that make a spreadsheet run a cell as a formula (also used in SQL by the unloads).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
CHUNK_ROWS = 1000


def neutralise(value: Any) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def iter_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterable[str]:
    """Yield the CSV text in chunks of CHUNK_ROWS rows, BOM first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
        count += 1
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """Stream a CSV download."""
    return telechargement(iter_csv(header, rows), filename, "text/csv")
