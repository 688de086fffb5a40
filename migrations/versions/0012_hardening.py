"""receipts keyed with a per-cycle secret; the identity key's fingerprint per cycle; pending
ballots kept on the server, apart from the voter's identity

Revision ID: 0012_hardening
Revises: 0011_cycle_archive
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0012_hardening'
down_revision = '0011_cycle_archive'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pending_ballot',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('selections', sa.Text(), nullable=False),
        sa.Column('expires_at', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['district_id'], ['district.id'],
                                name=op.f('fk_pending_ballot_district_id_district'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_pending_ballot')),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('pending_ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_ballot_expires_at'), ['expires_at'],
                              unique=False)
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('identity_key_fingerprint', sa.String(length=64),
                                      nullable=True))
    # A cycle without ballots gets its receipt key now; one with ballots keeps NULL, the
    # plain-hash receipts its voters already hold.
    connection = op.get_bind()
    cycle = sa.table('cycle', sa.column('id', sa.Integer), sa.column('receipt_key', sa.String))
    ballot = sa.table('ballot', sa.column('cycle_id', sa.Integer))
    without_ballots = connection.execute(sa.select(cycle.c.id).where(~sa.exists().where(
        ballot.c.cycle_id == cycle.c.id))).scalars().all()
    for cycle_id in without_ballots:
        connection.execute(cycle.update().where(cycle.c.id == cycle_id)
                           .values(receipt_key=secrets.token_hex(32)))


def downgrade():
    with op.batch_alter_table('pending_ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_ballot_expires_at'))
    op.drop_table('pending_ballot')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('identity_key_fingerprint')
        batch_op.drop_column('receipt_key')
