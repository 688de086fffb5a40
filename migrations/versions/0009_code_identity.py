"""access codes issued for roll entries vote under the entry's identity

Revision ID: 0009_code_identity
Revises: 0008_config_revision
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_code_identity'
down_revision = '0008_config_revision'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('access_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roll_entry_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_access_code_roll_entry_id'), ['roll_entry_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_access_code_roll_entry_id_roll_entry'),
                                    'roll_entry', ['roll_entry_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('access_code', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_access_code_roll_entry_id_roll_entry'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_access_code_roll_entry_id'))
        batch_op.drop_column('roll_entry_id')
