"""generation counter of the campaign data (kept between requests by each process)

Revision ID: baa1c3d46e0e
Revises: b902159beaa3
Create Date: 2026-11-22 23:30:00

"""
from alembic import op
import sqlalchemy as sa

from portal.generation import install_statements, uninstall_statements

# revision identifiers, used by Alembic.
revision = 'baa1c3d46e0e'
down_revision = 'b902159beaa3'
branch_labels = None
depends_on = None

# The watched tables at this revision (see portal/generation.py).
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
