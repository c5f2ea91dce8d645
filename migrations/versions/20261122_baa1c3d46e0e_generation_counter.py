"""generation counter of the campaign data (kept between requests by each process)

Revision ID: baa1c3d46e0e
Revises: b902159beaa3
Create Date: 2026-11-22 23:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'baa1c3d46e0e'
down_revision = 'b902159beaa3'
branch_labels = None
depends_on = None

# Frozen at this revision: the watched tables and the SQL that portal/generation.py wrote then
# (a migration never imports the application, which goes on changing).
TABLE = 'generation_donnees'
_FUNCTION = 'generation_donnees_suivante'
_BUMP = f"UPDATE {TABLE} SET valeur = valeur + 1 WHERE id = 1"
WATCHED = {
    "sessions_examen": ("annee", "libelle", "academie", "date_examen", "courante", "texte_confirmation",
                        "texte_accueil", "created_at"),
    "examens": None,
    "ouvertures_service": None,
    "etablissements": None,
    "verrous": None,
    "specialites": None,
    "statuts_publication": None,
    "etablissement_specialites": None,
}


def install_statements(dialect: str, watched: dict[str, tuple[str, ...] | None]) -> list[str]:
    """The row of the counter and the triggers that raise it (idempotent)."""
    if dialect == "postgresql":
        statements = [
            f"INSERT INTO {TABLE} (id, valeur) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",  # nosec B608
            f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_BUMP}; RETURN NULL; END $$",
        ]
        for table, columns in watched.items():
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            statements += [
                f"DROP TRIGGER IF EXISTS generation_{table} ON {table}",
                f"CREATE CONSTRAINT TRIGGER generation_{table} AFTER INSERT OR {update} OR DELETE ON {table} "
                f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()",
                f"DROP TRIGGER IF EXISTS generation_{table}_vidage ON {table}",
                f"CREATE TRIGGER generation_{table}_vidage AFTER TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()",
            ]
        return statements
    statements = [f"INSERT OR IGNORE INTO {TABLE} (id, valeur) VALUES (1, 0)"]
    for table, columns in watched.items():
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        for name, what in (("ajout", "INSERT"), ("modification", update), ("suppression", "DELETE")):
            statements.append(f"CREATE TRIGGER IF NOT EXISTS generation_{table}_{name} "
                              f"AFTER {what} ON {table} BEGIN {_BUMP}; END")
    return statements


def uninstall_statements(dialect: str, watched: dict[str, tuple[str, ...] | None]) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for table in watched
                for name in (f"generation_{table}", f"generation_{table}_vidage")] + [
            f"DROP FUNCTION IF EXISTS {_FUNCTION}()"]
    return [f"DROP TRIGGER IF EXISTS generation_{table}_{name}" for table in watched
            for name in ("ajout", "modification", "suppression")]


def upgrade():
    op.create_table('generation_donnees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('valeur', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_generation_donnees'))
    )
    dialect = op.get_bind().dialect.name
    for statement in install_statements(dialect, WATCHED):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in uninstall_statements(dialect, WATCHED):
        op.execute(statement)
    op.drop_table('generation_donnees')
