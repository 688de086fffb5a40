"""hardening, round two: a fixed per-cycle key for roll-number hashes, so a roll re-imported
after an identity-key change still matches the people who voted; staff sign-in failures
counted per account and client address

Revision ID: 0015_hardening
Revises: 0014_discussion
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0015_hardening'
down_revision = '0014_discussion'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roll_number_key', sa.String(length=64), nullable=True))
    with op.batch_alter_table('roll_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roll_number_key_hash', sa.String(length=64),
                                      nullable=True))
    # every existing cycle gets its own key; its entries get their hash at the next import
    # made with the identity key they were hashed with
    connection = op.get_bind()
    cycle = sa.table('cycle', sa.column('id', sa.Integer), sa.column('roll_number_key'))
    for (cycle_id,) in connection.execute(sa.select(cycle.c.id)).fetchall():
        connection.execute(cycle.update().where(cycle.c.id == cycle_id)
                           .values(roll_number_key=secrets.token_hex(32)))


    op.create_table(
        'staff_sign_in_failure',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('client_hash', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_staff_sign_in_failure_account_id_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'client_hash',
                                name=op.f('pk_staff_sign_in_failure')),
    )


def downgrade():
    op.drop_table('staff_sign_in_failure')
    with op.batch_alter_table('roll_entry', schema=None) as batch_op:
        batch_op.drop_column('roll_number_key_hash')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('roll_number_key')
