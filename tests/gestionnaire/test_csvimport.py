"""The CSV reader: dialect, encodings, binary content, limits, line numbers."""
from __future__ import annotations

import gc
import io
import warnings

import pytest

from portal.services.csvimport import CsvReader, FichierInvalide, normalise_colonne

COLUMNS = ["ine", "nom"]


def read(data: bytes, optional=(), **kw):
    reader = CsvReader(io.BytesIO(data), COLUMNS, optional, **kw)
    return reader, list(reader)


def test_semicolon_utf8_with_bom_is_read_with_line_numbers():
    reader, rows = read("\ufeffINE;Nom\n123;Élodie\n\n456;Zoé\n".encode("utf-8"))
    assert reader.encoding == "utf-8-sig"
    assert rows == [(2, {"ine": "123", "nom": "Élodie"}), (4, {"ine": "456", "nom": "Zoé"})]


def test_windows_1252_file_is_accepted():
    reader, rows = read("ine;nom\n1;Hélène Œuvre\n".encode("cp1252"))
    assert reader.encoding == "cp1252"
    assert rows[0][1]["nom"] == "Hélène Œuvre"


def test_comma_separator_is_accepted_when_the_header_uses_it():
    reader, rows = read(b"ine,nom\n1,\"Dupont; Jean\"\n")
    assert reader.delimiter == ","
    assert rows[0][1]["nom"] == "Dupont; Jean"


def test_header_names_ignore_case_accents_and_spaces():
    assert normalise_colonne(" Date de Naissance ") == "date_de_naissance"
    assert normalise_colonne("Spécialité") == "specialite"


@pytest.mark.parametrize("data, fragment", [
    ("ine;nom\n1;x\n".encode("utf-16"), "UTF-16"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    (b"PK\x03\x04\x14\x00\x06\x00", "Excel"),
    (b"ine;nom\n1;\x00\x01\x02\n", "binaires"),
    (b"", "vide"),
    (b"\n\n  \n", "vide"),
    (b"ine;nom\n", "aucune ligne de donn"),
])
def test_unreadable_files_are_refused_with_one_clear_message(data, fragment):
    with pytest.raises(FichierInvalide) as exc:
        read(data)
    assert fragment in exc.value.message


@pytest.mark.parametrize("data", [b"%PDF-1.7\n1 0 obj", b"", b"ine;prenom\n1;x\n"])
def test_a_refused_file_stays_open_for_the_caller_that_opened_it(tmp_path, data):
    """The upload's reader closes the file it opened itself, after the refusal is recorded:
    the wrappers of a refused file must let go of it without closing it (nor leave a
    file to the garbage collector, which warns of an unclosed file)."""
    path = tmp_path / "refuse.csv"
    path.write_bytes(data)
    with warnings.catch_warnings(record=True) as caught, open(path, "rb") as fh:
        warnings.simplefilter("always")
        with pytest.raises(FichierInvalide):
            CsvReader(fh, COLUMNS)
        gc.collect()
        assert not fh.closed
        fh.seek(0)
        assert fh.read() == data
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_missing_column_is_named():
    with pytest.raises(FichierInvalide) as exc:
        read(b"ine;prenom\n1;x\n")
    assert "nom" in exc.value.message and exc.value.ligne == 1


def test_optional_column_may_be_absent():
    _reader, rows = read(b"ine;nom\n1;x\n", optional=("note",))
    assert rows[0][1] == {"ine": "1", "nom": "x", "note": ""}


def test_wrong_field_count_and_long_field_are_line_errors():
    data = b"ine;nom\n1;a;b\n2;" + b"x" * 1001 + b"\n3;ok\n"
    reader, rows = read(data)
    assert rows == [(4, {"ine": "3", "nom": "ok"})]
    assert [(e.ligne, e.colonne) for e in reader.errors] == [(2, ""), (3, "nom")]


def test_ten_megabyte_field_is_refused_without_keeping_it():
    data = b"ine;nom\n1;" + b"x" * (10 * 1024 * 1024) + b"\n2;ok\n"
    reader, rows = read(data)
    assert rows == [(3, {"ine": "2", "nom": "ok"})]
    assert reader.errors[0].ligne == 2 and "trop longue" in reader.errors[0].message


def test_line_count_is_capped():
    data = b"ine;nom\n" + b"".join(b"%d;x\n" % i for i in range(11))
    with pytest.raises(FichierInvalide) as exc:
        read(data, max_lines=10)
    assert "10 lignes" in exc.value.message


def test_quoted_field_spanning_lines_keeps_the_starting_line_number():
    _reader, rows = read(b'ine;nom\n1;"a\nb"\n2;c\n')
    assert rows == [(2, {"ine": "1", "nom": "a\nb"}), (4, {"ine": "2", "nom": "c"})]
