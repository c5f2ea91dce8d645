"""French display of dates, times and numbers (Babel), used by templates and PDFs, and the
reading of the plain numbers users type in URLs and forms."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime

PARIS = ZoneInfo("Europe/Paris")


def to_paris(moment: datetime) -> datetime:
    """Storage is naive UTC: attach UTC, convert to Paris time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(PARIS)


def from_paris(moment: datetime) -> datetime:
    """A naive Paris wall-clock time (as typed by a manager) to naive UTC for storage."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def format_date(value: date | None, fmt: str = "dd/MM/yyyy") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_paris(value).date()
    return _format_date(value, fmt, locale="fr_FR")


def format_datetime(value: datetime | None, fmt: str = "dd/MM/yyyy 'à' HH'h'mm") -> str:
    if value is None:
        return ""
    return _format_datetime(to_paris(value), fmt, locale="fr_FR")


def format_adresse(personne) -> str:
    """A postal address on one line, empty parts left out (no " , " for an empty second
    line): "12 rue des Lilas, Bâtiment B, 69001 Lyon, France"."""
    ville = " ".join(p for p in (personne.code_postal, personne.commune) if p)
    return ", ".join(p for p in (personne.adresse1, personne.adresse2, ville, personne.pays) if p)


def format_session(session_examen) -> str:
    """A session's label with its year, unless the label already says it ("Session 2027",
    not "Session 2027 (2027)")."""
    libelle, annee = session_examen.libelle or "", str(session_examen.annee)
    return libelle if annee in libelle else f"{libelle} ({annee})".strip()


def format_long_date(value: date | None) -> str:
    return format_date(value, "d MMMM yyyy")


def format_number(value: int | float) -> str:
    return f"{value:,}".replace(",", "\u202f")


def plain_integer(raw: str | None, max_digits: int = 9) -> int | None:
    """The integer ``raw`` writes in ASCII digits only (no sign, no space), at most
    ``max_digits`` of them (9 fit every integer column), else None: "²" is a digit to
    ``str.isdigit`` but not to ``int``, and longer numbers overflow the database's integers."""
    if raw and len(raw) <= max_digits and raw.isascii() and raw.isdigit():
        return int(raw)
    return None
