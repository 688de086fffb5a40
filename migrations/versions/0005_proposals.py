"""proposals: residents' ideas, their history, supports and project links; intake settings;
email sign-in codes and the development outbox

Revision ID: 0005_proposals
Revises: 0004_results
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_proposals'
down_revision = '0004_results'
branch_labels = None
depends_on = None

STATUS_CHECK = ("status IN ('submitted', 'under_review', 'needs_information', 'feasible', "
                "'not_feasible', 'accepted', 'merged')")


def upgrade():
    op.create_table('intake_settings',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('categories_json', sa.Text(), nullable=False),
    sa.Column('max_per_person', sa.Integer(), nullable=True),
    sa.CheckConstraint('max_per_person IS NULL OR max_per_person > 0', name=op.f('ck_intake_settings_positive_limit')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_intake_settings_cycle_id_cycle'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cycle_id', name=op.f('pk_intake_settings'))
    )
    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=False),
    sa.Column('cost_estimate', sa.BigInteger(), nullable=True),
    sa.Column('photo_name', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('staff_cost_estimate', sa.BigInteger(), nullable=True),
    sa.Column('feasibility_note', sa.Text(), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('hidden_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint(STATUS_CHECK, name=op.f('ck_proposal_known_status')),
    sa.CheckConstraint('cost_estimate IS NULL OR cost_estimate > 0', name=op.f('ck_proposal_positive_estimate')),
    sa.CheckConstraint('staff_cost_estimate IS NULL OR staff_cost_estimate > 0', name=op.f('ck_proposal_positive_staff_estimate')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_proposal_cycle_id_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_proposal_district_id_district'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_id'], ['account.id'], name=op.f('fk_proposal_author_id_account')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['proposal.id'], name=op.f('fk_proposal_merged_into_id_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal'))
    )
    op.create_index('ix_proposal_cycle_status', 'proposal', ['cycle_id', 'status'])
    op.create_index('ix_proposal_author', 'proposal', ['author_id'])
    op.create_table('proposal_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.String(length=30), nullable=True),
    sa.Column('to_status', sa.String(length=30), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_proposal_event_proposal_id_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_id'], ['account.id'], name=op.f('fk_proposal_event_actor_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_event'))
    )
    op.create_index('ix_proposal_event_proposal', 'proposal_event', ['proposal_id'])
    op.create_table('proposal_support',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_proposal_support_proposal_id_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_proposal_support_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'account_id', name=op.f('pk_proposal_support'))
    )
    op.create_table('proposal_project_link',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_proposal_project_link_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_proposal_project_link_proposal_id_proposal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'proposal_id', name=op.f('pk_proposal_project_link')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_proposal_project_link_proposal_id'))
    )
    op.create_table('email_sign_in_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_sign_in_code')),
    sa.UniqueConstraint('email', name=op.f('uq_email_sign_in_code_email'))
    )
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message'))
    )


def downgrade():
    op.drop_table('outbox_message')
    op.drop_table('email_sign_in_code')
    op.drop_table('proposal_project_link')
    op.drop_table('proposal_support')
    op.drop_index('ix_proposal_event_proposal', table_name='proposal_event')
    op.drop_table('proposal_event')
    op.drop_index('ix_proposal_author', table_name='proposal')
    op.drop_index('ix_proposal_cycle_status', table_name='proposal')
    op.drop_table('proposal')
    op.drop_table('intake_settings')
