"""pipeline: the verified bundle of a count, kept with its tally run (zip bytes, their
SHA-256 and a digest of what it was built from), so that asking to publish, confirming and
exporting publish those verified bytes instead of building and verifying the bundle again;
and covering indexes for the turnout cube a count computes (participations by district,
channel and day, joined to the roll's dates of birth by identity)

Revision ID: 0023_pipeline
Revises: 0022_declare_review
"""
import sqlalchemy as sa
from alembic import op

revision = '0023_pipeline'
down_revision = '0022_declare_review'
branch_labels = None
depends_on = None


INDEXES = [
    ('ix_participation_cycle_district_channel_day', 'participation',
     ['cycle_id', 'district_id', 'channel', 'voted_on', 'site', 'identity_hash']),
    ('ix_roll_entry_cycle_identity_birth_date', 'roll_entry',
     ['cycle_id', 'identity_hash', 'birth_date', 'id']),
]


def upgrade():
    with op.batch_alter_table('tally_run') as batch_op:
        batch_op.add_column(sa.Column('bundle_zip', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('bundle_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('inputs_digest', sa.String(length=64), nullable=True))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('tally_run') as batch_op:
        batch_op.drop_column('inputs_digest')
        batch_op.drop_column('bundle_sha256')
        batch_op.drop_column('bundle_zip')
