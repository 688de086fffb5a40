"""discussion: residents' comments on ideas, reports of comments for staff moderation, and a
support threshold at which an idea enters staff review

Revision ID: 0014_discussion
Revises: 0013_delivery
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_discussion'
down_revision = '0013_delivery'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('intake_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('support_threshold', sa.Integer(), nullable=True))
    op.create_table(
        'comment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('hidden', sa.Boolean(), nullable=False),
        sa.Column('hidden_reason', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_comment_cycle_id_cycle'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'],
                                name=op.f('fk_comment_proposal_id_proposal'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['account.id'],
                                name=op.f('fk_comment_author_id_account'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_comment')),
    )
    op.create_index(op.f('ix_comment_proposal_id'), 'comment', ['proposal_id'], unique=False)
    op.create_index('ix_comment_author_created', 'comment', ['author_id', 'created_at'],
                    unique=False)
    op.create_table(
        'comment_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('reporter_key', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('resolved', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comment.id'],
                                name=op.f('fk_comment_report_comment_id_comment'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_report')),
        sa.UniqueConstraint('comment_id', 'reporter_key',
                            name=op.f('uq_comment_report_comment_id_reporter_key')),
    )


def downgrade():
    op.drop_table('comment_report')
    op.drop_index('ix_comment_author_created', table_name='comment')
    op.drop_index(op.f('ix_comment_proposal_id'), table_name='comment')
    op.drop_table('comment')
    with op.batch_alter_table('intake_settings', schema=None) as batch_op:
        batch_op.drop_column('support_threshold')
