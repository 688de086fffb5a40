"""in-person voting: kiosk passes, paper serials and entries, desk roll additions, paper audit

Revision ID: 0006_in_person
Revises: 0005_proposals
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_in_person'
down_revision = '0005_proposals'
branch_labels = None
depends_on = None


def _fk(table, column, target, cascade=True):
    return sa.ForeignKeyConstraint(
        [column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'),
        ondelete='CASCADE' if cascade else None)


def upgrade():
    op.create_table('kiosk_pass',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    _fk('kiosk_pass', 'cycle_id', 'cycle'),
    _fk('kiosk_pass', 'district_id', 'district'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_pass')),
    sqlite_with_rowid=False
    )
    op.create_table('paper_serial',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=20), nullable=False),
    sa.Column('site', sa.String(length=120), nullable=False),
    sa.Column('batch', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('recorded_selections', sa.Text(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    _fk('paper_serial', 'cycle_id', 'cycle'),
    _fk('paper_serial', 'district_id', 'district'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_serial')),
    sa.UniqueConstraint('cycle_id', 'serial', name=op.f('uq_paper_serial_cycle_id_serial'))
    )
    op.create_table('paper_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('selections', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    _fk('paper_entry', 'serial_id', 'paper_serial'),
    _fk('paper_entry', 'account_id', 'account', cascade=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_entry')),
    sa.UniqueConstraint('serial_id', 'stage', name=op.f('uq_paper_entry_serial_id_stage'))
    )
    op.create_table('desk_roll_addition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('roll_entry_id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=120), nullable=False),
    sa.Column('proof_seen', sa.String(length=300), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    _fk('desk_roll_addition', 'roll_entry_id', 'roll_entry'),
    _fk('desk_roll_addition', 'cycle_id', 'cycle'),
    _fk('desk_roll_addition', 'account_id', 'account', cascade=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_roll_addition')),
    sa.UniqueConstraint('roll_entry_id', name=op.f('uq_desk_roll_addition_roll_entry_id'))
    )
    op.create_table('paper_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('risk_limit', sa.String(length=20), nullable=False),
    sa.Column('margin', sa.String(length=20), nullable=False),
    sa.Column('percentage', sa.String(length=20), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('sample_json', sa.Text(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    _fk('paper_audit', 'cycle_id', 'cycle'),
    _fk('paper_audit', 'account_id', 'account', cascade=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_audit')),
    sa.UniqueConstraint('cycle_id', name=op.f('uq_paper_audit_cycle_id'))
    )
    op.create_table('paper_audit_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=20), nullable=False),
    sa.Column('recorded', sa.Text(), nullable=False),
    sa.Column('found', sa.Text(), nullable=False),
    sa.Column('discrepancy', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    _fk('paper_audit_finding', 'audit_id', 'paper_audit'),
    _fk('paper_audit_finding', 'account_id', 'account', cascade=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_audit_finding')),
    sa.UniqueConstraint('audit_id', 'serial', name=op.f('uq_paper_audit_finding_audit_id_serial'))
    )


def downgrade():
    op.drop_table('paper_audit_finding')
    op.drop_table('paper_audit')
    op.drop_table('desk_roll_addition')
    op.drop_table('paper_entry')
    op.drop_table('paper_serial')
    op.drop_table('kiosk_pass')
