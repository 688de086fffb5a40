"""results: private tally runs and the immutable published results snapshot

Revision ID: 0004_results
Revises: 0003_setup
Create Date: 2026-11-21 13:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004_results'
down_revision = '0003_setup'
branch_labels = None
depends_on = None

# A published snapshot is never changed: the database refuses UPDATE itself, so neither a
# bug nor a stray SQL session can rewrite published results. DELETE stays possible because
# removing a whole cycle cascades.
SQLITE_TRIGGER = """
CREATE TRIGGER results_snapshot_immutable BEFORE UPDATE ON results_snapshot
BEGIN
    SELECT RAISE(ABORT, 'results snapshots are immutable');
END
"""
POSTGRES_FUNCTION = """
CREATE FUNCTION results_snapshot_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'results snapshots are immutable';
END
$$
"""
POSTGRES_TRIGGER = """
CREATE TRIGGER results_snapshot_immutable BEFORE UPDATE ON results_snapshot
FOR EACH ROW EXECUTE FUNCTION results_snapshot_immutable()
"""


def upgrade():
    op.create_table('tally_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('run_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('results_json', sa.Text(), nullable=False),
    sa.Column('results_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_by', sa.String(length=254), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_by', sa.String(length=254), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'requested', 'published')", name=op.f('ck_tally_run_known_status')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_tally_run_cycle_id_cycle'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tally_run'))
    )
    with op.batch_alter_table('tally_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tally_run_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('results_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('tally_run_id', sa.Integer(), nullable=False),
    sa.Column('results_json', sa.Text(), nullable=False),
    sa.Column('results_hash', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by', sa.String(length=254), nullable=False),
    sa.Column('confirmed_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_results_snapshot_cycle_id_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tally_run_id'], ['tally_run.id'], name=op.f('fk_results_snapshot_tally_run_id_tally_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_results_snapshot')),
    sa.UniqueConstraint('cycle_id', name=op.f('uq_results_snapshot_cycle_id'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS results_snapshot_immutable ON results_snapshot')
        op.execute('DROP FUNCTION IF EXISTS results_snapshot_immutable()')
    else:
        op.execute('DROP TRIGGER IF EXISTS results_snapshot_immutable')
    op.drop_table('results_snapshot')
    with op.batch_alter_table('tally_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tally_run_cycle_id'))
    op.drop_table('tally_run')
