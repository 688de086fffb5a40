"""cycle operations: the standalone verifier's verdict on a count's bundle, stored on the
tally run when the count is made, so the overview shows it before anyone asks to publish

Revision ID: 0016_cycleops
Revises: 0015_hardening
"""
import sqlalchemy as sa
from alembic import op

revision = '0016_cycleops'
down_revision = "0015_hardening"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tally_run') as batch_op:
        batch_op.add_column(sa.Column('verified_ok', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('verifier_failure', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('tally_run') as batch_op:
        batch_op.drop_column('verifier_failure')
        batch_op.drop_column('verified_ok')
