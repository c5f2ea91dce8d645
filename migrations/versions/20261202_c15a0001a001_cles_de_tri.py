"""French sort keys: a ``cle_tri`` column on every table whose lists are ordered by a name

Revision ID: c15a0001a001
Revises: c15a0001a002
Create Date: 2026-12-02 12:30:00

Lists were ordered by the raw names, in byte order: ``Émery`` after ``Müller``, ``dupont``
after ``Zola``. Each table listed below gets a sort key (bytes, compared the same way by
SQLite and PostgreSQL) computed by the application when a row is written; this revision
computes it for the existing rows. The key function is frozen here (same algorithm as
``portal/collation.py`` today, through pyuca, a dependency): a migration never imports
the application.

Pupils' names are also stored as a load stores them (upper case, single spaces), so
that re-loading an unchanged base finds nothing to modify.
"""
import re
import sys
import unicodedata
from array import array

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c15a0001a001'
down_revision = 'c15a0001a002'
branch_labels = None
depends_on = None

CLES = {
    "candidats": {"cle_tri": ("nom_naissance", "prenom1")},
    "eleves": {"cle_tri": ("nom", "prenoms")},
    "specialites": {"cle_tri": ("libelle",)},
    "etablissements": {"cle_tri": ("nom",), "cle_tri_commune": ("commune", "nom")},
    "gestionnaires": {"cle_tri": ("nom",)},
    "autorisations_tardives": {"cle_tri": ("nom", "prenom")},
}
BATCH = 2000

_IGNORED = re.compile(r"[\s'’‘`´ʼ\-‐‑–—.]+")
_collator = None
_cache = {}


def _weights(part):
    if part not in _cache:
        global _collator
        if _collator is None:
            from pyuca import Collator
            _collator = Collator()
        text = unicodedata.normalize("NFD", _IGNORED.sub("", part or ""))
        elements = _collator.collation_elements(text)
        _cache[part] = tuple(tuple(e[level] for e in elements if len(e) > level and e[level])
                             for level in range(3))
    return _cache[part]


def cle_tri(*parts):
    weights = [_weights(part or "") for part in parts]
    key = array("H")
    for level in range(3):
        if level:
            key.append(0)
        for index, part in enumerate(weights):
            if index:
                key.append(1)
            key.extend(part[level])
    if sys.byteorder == "little":
        key.byteswap()
    return key.tobytes()


def _fill(connection, table, cles):
    champs = sorted({champ for sources in cles.values() for champ in sources})
    t = sa.table(table, sa.column("id"), *(sa.column(c) for c in champs),
                 *(sa.column(cle, sa.LargeBinary) for cle in cles))
    eleves = table == "eleves"
    values = {cle: sa.bindparam(f"v_{cle}") for cle in cles}
    if eleves:
        values.update(nom=sa.bindparam("v_nom"), prenoms=sa.bindparam("v_prenoms"))
    update = t.update().where(t.c.id == sa.bindparam("v_id")).values(**values)
    last = 0
    while True:
        rows = connection.execute(sa.select(t.c.id, *(t.c[c] for c in champs)).where(t.c.id > last)
                                  .order_by(t.c.id).limit(BATCH)).mappings().all()
        if not rows:
            return
        params = []
        for row in rows:
            row = dict(row)
            if eleves:
                row["nom"] = " ".join((row["nom"] or "").split()).upper()
                row["prenoms"] = " ".join((row["prenoms"] or "").split())
            p = {f"v_{cle}": cle_tri(*(row[c] for c in sources)) for cle, sources in cles.items()}
            if eleves:
                p.update(v_nom=row["nom"], v_prenoms=row["prenoms"])
            p["v_id"] = row["id"]
            params.append(p)
        connection.execute(update, params)
        last = rows[-1]["id"]


def upgrade():
    # Added NOT NULL with an empty default, in place: on SQLite, a table rebuilt by a batch
    # operation could not be dropped while other rows refer to it (foreign keys are on).
    # PostgreSQL then drops the default at once, before any UPDATE (whose deferred
    # generation triggers would forbid a later ALTER in this transaction); SQLite keeps it
    # (removing it means rebuilding the table), harmlessly: every insert gives its key.
    bind = op.get_bind()
    for table, cles in CLES.items():
        for cle in cles:
            op.add_column(table, sa.Column(cle, sa.LargeBinary(), nullable=False, server_default=sa.text("''")))
            if bind.dialect.name == "postgresql":
                op.alter_column(table, cle, server_default=None, existing_type=sa.LargeBinary(),
                                existing_nullable=False)
    for table, cles in CLES.items():
        _fill(bind, table, cles)


def downgrade():
    for table, cles in CLES.items():
        for cle in cles:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {cle}")
