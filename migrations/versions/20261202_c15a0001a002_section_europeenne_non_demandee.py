"""a registration's European-section answer is NULL when the question was not asked

Revision ID: c15a0001a002
Revises: baa1c3d46e0e
Create Date: 2026-12-02 10:00:00

Until now a candidate never asked the question was stored as "non" and printed so on the
review, the confirmation and the lists. Existing rows whose answer is "non" and for whom
the question could not have been asked (public candidates, another exam than the BCP, a
specialty without a European section, an establishment without one, a candidate neither
school pupil nor apprentice of a centre entitled to continuous assessment) become NULL.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c15a0001a002'
down_revision = 'baa1c3d46e0e'
branch_labels = None
depends_on = None

NON_DEMANDEE = """
UPDATE inscriptions SET section_europeenne = NULL
WHERE section_europeenne = false AND (
    source = 'public'
    OR examen_id NOT IN (SELECT id FROM examens WHERE code = 'BCP')
    OR specialite_id IN (SELECT id FROM specialites WHERE section_europeenne_possible = false)
    OR etablissement_id IN (SELECT id FROM etablissements
                            WHERE section_europeenne IS NULL OR section_europeenne = false)
    OR candidat_id IN (SELECT c.id FROM candidats c WHERE c.statut NOT IN ('scolaire', 'apprenti'))
    OR (candidat_id IN (SELECT c.id FROM candidats c WHERE c.statut = 'apprenti')
        AND etablissement_id IN (SELECT id FROM etablissements WHERE ccf_habilite = false))
)
"""


def upgrade():
    with op.batch_alter_table('inscriptions', schema=None) as batch_op:
        batch_op.alter_column('section_europeenne', existing_type=sa.Boolean(), nullable=True)
    op.execute(NON_DEMANDEE)


def downgrade():
    op.execute("UPDATE inscriptions SET section_europeenne = false WHERE section_europeenne IS NULL")
    with op.batch_alter_table('inscriptions', schema=None) as batch_op:
        batch_op.alter_column('section_europeenne', existing_type=sa.Boolean(), nullable=False)
