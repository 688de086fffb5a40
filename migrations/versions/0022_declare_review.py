"""declare review: a person key on each online self-declaration, so a declared voter later
added to the roll cannot vote again under the roll identity, and staff's rejection of a
declaration with its reason

Revision ID: 0022_declare_review
Revises: 0021_results_notice
"""
import sqlalchemy as sa
from alembic import op

revision = '0022_declare_review'
down_revision = '0021_results_notice'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('self_declaration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roll_match_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('rejected_reason', sa.String(length=300), nullable=True))
    op.create_index('ix_self_declaration_cycle_roll_match_hash', 'self_declaration',
                    ['cycle_id', 'roll_match_hash'], unique=False)


def downgrade():
    op.drop_index('ix_self_declaration_cycle_roll_match_hash', table_name='self_declaration')
    with op.batch_alter_table('self_declaration', schema=None) as batch_op:
        batch_op.drop_column('rejected_reason')
        batch_op.drop_column('roll_match_hash')
