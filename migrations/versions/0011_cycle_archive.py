"""cycle archive: a draft cycle that never opened can be archived, which takes it off the
public home page and the open-data list

Revision ID: 0011_cycle_archive
Revises: 0010_jobs
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_cycle_archive'
down_revision = '0010_jobs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycle') as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('cycle') as batch_op:
        batch_op.drop_column('archived_at')
