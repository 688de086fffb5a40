"""cycle configuration revision: lets each app process cache a cycle's settings safely

Revision ID: 0008_config_revision
Revises: 0007_translations
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_config_revision'
down_revision = '0007_translations'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycle') as batch_op:
        batch_op.add_column(sa.Column('config_revision', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade():
    with op.batch_alter_table('cycle') as batch_op:
        batch_op.drop_column('config_revision')
