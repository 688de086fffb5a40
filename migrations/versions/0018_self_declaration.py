"""self_declaration: residents on no roll declare online and confirm a one-time code, where
a cycle switches online_self_declaration on

Revision ID: 0018_self_declaration
Revises: 0017_project_comments
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_self_declaration'
down_revision = "0017_project_comments"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('online_self_declaration', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table(
        'self_declaration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('identity_hash', sa.String(length=64), nullable=False),
        sa.Column('contact_hash', sa.String(length=64), nullable=False),
        sa.Column('contact_kind', sa.String(length=5), nullable=False),
        sa.Column('address_hash', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('code_expires_at', sa.DateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('confirmed', sa.Boolean(), nullable=False),
        sa.Column('declared_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'],
                                name=op.f('fk_self_declaration_cycle_id_cycle'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['district_id'], ['district.id'],
                                name=op.f('fk_self_declaration_district_id_district'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_self_declaration')),
        sa.UniqueConstraint('cycle_id', 'identity_hash',
                            name=op.f('uq_self_declaration_cycle_id_identity_hash')),
        sa.UniqueConstraint('cycle_id', 'contact_hash',
                            name=op.f('uq_self_declaration_cycle_id_contact_hash')),
    )
    op.create_index(op.f('ix_self_declaration_address_hash'), 'self_declaration',
                    ['address_hash'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_self_declaration_address_hash'), table_name='self_declaration')
    op.drop_table('self_declaration')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('online_self_declaration')
