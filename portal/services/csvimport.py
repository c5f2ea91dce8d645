"""Reading an uploaded CSV file in the French spreadsheet dialect, line by line.

- separator ``;`` (``,`` is accepted when the header line uses it);
- UTF-8 with or without BOM, Windows-1252 when the start of the file is not UTF-8;
- a header row is required; column names are compared without case, accents or spaces;
- the file is streamed through ``io.TextIOWrapper``: it is never read whole into memory;
- binary content (NUL bytes, PDF, ZIP/Excel, UTF-16) is refused with one clear message;
- fields longer than ``MAX_FIELD`` characters, over-long lines and files with more than
  ``max_lines`` data lines are reported, never loaded.

Problems of a line are reported as ``Erreur(ligne, colonne, message)``; a problem of the
whole file raises ``FichierInvalide``.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from operator import itemgetter
from typing import BinaryIO

MAX_FIELD = 1000
# A physical line longer than this (in characters) is refused without being kept.
MAX_LINE = 16 * 1024
MAX_LINES = 200_000
SNIFF_BYTES = 64 * 1024


class FichierInvalide(Exception):
    """The file as a whole cannot be read as a CSV file."""

    def __init__(self, message: str, ligne: int | None = None):
        super().__init__(message)
        self.message = message
        self.ligne = ligne


@dataclass(frozen=True)
class Erreur:
    ligne: int
    colonne: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def normalise_colonne(name: str) -> str:
    """'Date de naissance ' -> 'date_de_naissance'."""
    text = unicodedata.normalize("NFKD", name.strip().lstrip("\ufeff"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def detect_encoding(start: bytes) -> str:
    """The encoding of a file from its first bytes, or FichierInvalide for binary content."""
    if not start.strip():
        raise FichierInvalide("Le fichier est vide.")
    if start.startswith(b"%PDF"):
        raise FichierInvalide("Le fichier est un document PDF, pas un fichier CSV.")
    if start.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise FichierInvalide("Le fichier est un classeur ou une archive (Excel, ZIP), pas un fichier CSV : "
                              "enregistrez-le au format CSV.")
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(start):
        raise FichierInvalide("Le fichier est encodé en UTF-16 : enregistrez-le au format "
                              "« CSV UTF-8 » ou « CSV (séparateur : point-virgule) ».")
    if b"\x00" in start:
        raise FichierInvalide("Le fichier contient des données binaires : ce n'est pas un fichier CSV.")
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        start.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if exc.start < len(start) - 3 or exc.reason != "unexpected end of data":
            return "cp1252"
    return "utf-8"


def _looks_utf16(start: bytes) -> bool:
    sample = start[:200]
    return len(sample) >= 4 and sample.count(b"\x00") >= len(sample) // 3


class CsvReader:
    """Iterate over the data lines of a CSV file as ``(line number, {column: value})``.

    ``columns`` are the required columns, ``optional`` those that may be absent (their
    value is then ""). Line numbers are physical line numbers, the header being line 1.
    Line-level problems are appended to ``errors`` and the line is skipped.
    """

    def __init__(self, binary: BinaryIO, columns: Sequence[str], optional: Sequence[str] = (), *,
                 max_lines: int = MAX_LINES, max_field: int = MAX_FIELD):
        self.binary = io.BufferedReader(binary, buffer_size=SNIFF_BYTES)
        self.text: io.TextIOWrapper | None = None
        self.columns = list(columns)
        self.optional = list(optional)
        self.max_lines = max_lines
        self.max_field = max_field
        self.errors: list[Erreur] = []
        try:
            self.encoding = detect_encoding(self.binary.peek(SNIFF_BYTES)[:SNIFF_BYTES])
            self.text = io.TextIOWrapper(self.binary, encoding=self.encoding, newline="")
            self._physical = 0
            self.header = self._read_header()
        except BaseException:
            self._let_go()
            raise

    def _let_go(self) -> None:
        """Leave ``binary`` open, to whoever opened it: a wrapper dropped while its file
        is still open would close that file when collected."""
        if self.text is not None:
            self.text.detach()
        self.binary.detach()

    # -- physical lines ------------------------------------------------------------------

    def _lines(self) -> Iterator[str]:
        while True:
            try:
                line = self.text.readline(MAX_LINE)
            except UnicodeDecodeError as exc:
                raise FichierInvalide(
                    f"Vers la ligne {self._physical + 1} : caractères illisibles ({self.encoding}). "
                    "Enregistrez le fichier en UTF-8 ou en Windows-1252.", self._physical + 1) from exc
            if not line:
                return
            self._physical += 1
            if len(line) >= MAX_LINE and not line.endswith(("\n", "\r")):
                self._skip_rest_of_line()
                self.errors.append(Erreur(self._physical, "", "La ligne est trop longue (plus de "
                                          f"{MAX_LINE} caractères) : elle est ignorée."))
                yield "\n"
                continue
            yield line

    def _skip_rest_of_line(self) -> None:
        while True:
            chunk = self.text.readline(MAX_LINE)
            if not chunk or chunk.endswith(("\n", "\r")):
                return

    # -- header --------------------------------------------------------------------------

    def _read_header(self) -> list[str]:
        lines = self._lines()
        first = next(lines, None)
        while first is not None and not first.strip():
            first = next(lines, None)
        if first is None:
            raise FichierInvalide("Le fichier est vide.")
        if self.errors:
            raise FichierInvalide("La ligne d'en-tête est trop longue : ce n'est pas un fichier attendu.", 1)
        self.delimiter = ";" if ";" in first or "," not in first else ","
        names = [normalise_colonne(n) for n in next(csv.reader([first], delimiter=self.delimiter))]
        self.header_line = self._physical
        missing = [c for c in self.columns if c not in names]
        if missing:
            raise FichierInvalide(
                f"Colonne{'s' if len(missing) > 1 else ''} obligatoire{'s' if len(missing) > 1 else ''} "
                f"absente{'s' if len(missing) > 1 else ''} de la ligne d'en-tête : {', '.join(missing)}. "
                f"Colonnes attendues : {';'.join(self.columns + self.optional)}.", self._physical)
        doubles = sorted({n for n in names if n and names.count(n) > 1})
        if doubles:
            raise FichierInvalide(f"Colonne en double dans la ligne d'en-tête : {', '.join(doubles)}.",
                                  self._physical)
        self._remaining = lines
        return names

    # -- data lines ----------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        wanted = self.columns + self.optional
        for ligne, values in self.records():
            yield ligne, dict(zip(wanted, values, strict=True))

    def records(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        """The data lines as ``(line number, values)``, values stripped and in the order of
        ``columns`` then ``optional``. A plain tuple per line, and no Python loop over the
        fields of a well-formed line, so that a 100,000-line file reads in a fraction of
        a second."""
        reader = csv.reader(self._remaining, delimiter=self.delimiter, strict=False)
        pick = self._picker()
        width, max_field = len(self.header), self.max_field
        count = 0
        while True:
            start = self._physical + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise FichierInvalide(f"Ligne {start} : structure CSV invalide ({exc}).", start) from exc
            if not "".join(fields).strip():
                continue
            count += 1
            if count > self.max_lines:
                raise FichierInvalide(f"Le fichier dépasse {self.max_lines} lignes de données : "
                                      "découpez-le en plusieurs fichiers.", start)
            if len(fields) == width and max(map(len, fields)) <= max_field:
                yield start, tuple(map(str.strip, pick(fields)))
            elif (values := self._checked(start, fields, pick)) is not None:
                yield start, values
        if count == 0:
            raise FichierInvalide("Le fichier ne contient que la ligne d'en-tête : aucune ligne de données.")

    def _picker(self) -> Callable[[list[str]], Sequence[str]]:
        """fields -> the wanted values in order ("" for an optional column left out)."""
        index = {name: i for i, name in enumerate(self.header)}
        positions = [index.get(name) for name in self.columns + self.optional]
        if None not in positions and len(positions) > 1:
            return itemgetter(*positions)
        return lambda fields: ["" if i is None else fields[i] for i in positions]

    def _checked(self, ligne: int, fields: list[str], pick) -> tuple[str, ...] | None:
        """A line of the wrong width or with an over-long field: errors, or its values when
        the long field is in a column nobody reads."""
        if len(fields) != len(self.header):
            self.errors.append(Erreur(ligne, "", f"La ligne contient {len(fields)} champ(s) au lieu de "
                                      f"{len(self.header)} (séparateur « {self.delimiter} »)."))
            return None
        wanted = set(self.columns + self.optional)
        too_long = [name for name, value in zip(self.header, fields, strict=True)
                    if name in wanted and len(value) > self.max_field]
        for name in too_long:
            self.errors.append(Erreur(ligne, name, f"La valeur dépasse {self.max_field} caractères."))
        return None if too_long else tuple(map(str.strip, pick(fields)))
