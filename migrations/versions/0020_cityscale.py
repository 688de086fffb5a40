"""city scale: covering indexes for the counts a count, a publication and a bundle make of
every participation, ballot and roll entry of a cycle, and for a chain's ballot entries

Revision ID: 0020_cityscale
Revises: 0019_map
"""
from alembic import op

revision = '0020_cityscale'
down_revision = "0019_map"
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_ballot_cycle_district_channel', 'ballot', ['cycle_id', 'district_id', 'channel']),
    ('ix_participation_cycle_channel_district_site', 'participation',
     ['cycle_id', 'channel', 'district_id', 'site']),
    ('ix_participation_cycle_district_channel', 'participation',
     ['cycle_id', 'district_id', 'channel']),
    ('ix_roll_entry_cycle_district_birth_date', 'roll_entry',
     ['cycle_id', 'district_id', 'birth_date']),
    ('ix_log_entry_chain_kind_position', 'log_entry', ['chain_id', 'kind', 'position']),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
