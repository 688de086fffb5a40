"""results notice: residents who asked to be emailed when a cycle's results are out

Revision ID: 0021_results_notice
Revises: 0020_cityscale
"""
import sqlalchemy as sa
from alembic import op

revision = '0021_results_notice'
down_revision = '0020_cityscale'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'results_subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('confirm_hash', sa.String(length=64), nullable=True),
        sa.Column('confirm_expires_at', sa.DateTime(), nullable=True),
        sa.Column('unsubscribe_hash', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_on', sa.Date(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'sent', 'unsubscribed')",
                           name=op.f('ck_results_subscription_known_results_subscription_status')),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'],
                                name=op.f('fk_results_subscription_cycle_id_cycle'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_results_subscription')),
        sa.UniqueConstraint('confirm_hash', name=op.f('uq_results_subscription_confirm_hash')),
        sa.UniqueConstraint('cycle_id', 'email',
                            name=op.f('uq_results_subscription_cycle_id_email')),
        sa.UniqueConstraint('unsubscribe_hash',
                            name=op.f('uq_results_subscription_unsubscribe_hash')),
    )
    with op.batch_alter_table('results_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_results_subscription_cycle_id'), ['cycle_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('results_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_results_subscription_cycle_id'))
    op.drop_table('results_subscription')
