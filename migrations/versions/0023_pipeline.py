"""pipeline: the verified bundle of a count, kept with its tally run (zip bytes, their
SHA-256 and a digest of what it was built from), so that asking to publish, confirming and
exporting publish those verified bytes instead of building and verifying the bundle again

Revision ID: 0023_pipeline
Revises: 0020_cityscale
"""
import sqlalchemy as sa
from alembic import op

revision = '0023_pipeline'
down_revision = "0020_cityscale"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tally_run') as batch_op:
        batch_op.add_column(sa.Column('bundle_zip', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('bundle_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('inputs_digest', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('tally_run') as batch_op:
        batch_op.drop_column('inputs_digest')
        batch_op.drop_column('bundle_sha256')
        batch_op.drop_column('bundle_zip')
