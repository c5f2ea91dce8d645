"""postes_ouverts: the server's record of each opened school computer

Revision ID: c15a0001a003
Revises: c15a0001a001
Create Date: 2026-12-02 12:40:00

"Fermer le poste" deletes the computer's row: a copied session cookie of that computer stops
working, the school's other computers stay open.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c15a0001a003'
down_revision = 'c15a0001a001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('postes_ouverts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('etablissement_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['etablissement_id'], ['etablissements.id'],
                            name=op.f('fk_postes_ouverts_etablissement_id_etablissements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postes_ouverts'))
    )
    with op.batch_alter_table('postes_ouverts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_postes_ouverts_etablissement_id'), ['etablissement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_postes_ouverts_opened_at'), ['opened_at'], unique=False)


def downgrade():
    with op.batch_alter_table('postes_ouverts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_postes_ouverts_opened_at'))
        batch_op.drop_index(batch_op.f('ix_postes_ouverts_etablissement_id'))
    op.drop_table('postes_ouverts')
