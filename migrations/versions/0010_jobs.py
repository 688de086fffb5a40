"""jobs: long work outside the request, with progress

Revision ID: 0010_jobs
Revises: 0009_code_identity
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_jobs'
down_revision = '0009_code_identity'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('checkpoint', sa.Text(), nullable=False),
        sa.Column('files', sa.Text(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('run_after', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('worker', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job')),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name=op.f('ck_job_status')),
    )
    op.create_index('ix_job_status_run_after', 'job', ['status', 'run_after'], unique=False)
    op.create_index('ix_job_cycle_id', 'job', ['cycle_id'], unique=False)
    # letters for a whole roll walk a district's entries in id order, a step at a time
    op.create_index('ix_roll_entry_cycle_district_id', 'roll_entry',
                    ['cycle_id', 'district_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_roll_entry_cycle_district_id', table_name='roll_entry')
    op.drop_index('ix_job_cycle_id', table_name='job')
    op.drop_index('ix_job_status_run_after', table_name='job')
    op.drop_table('job')
