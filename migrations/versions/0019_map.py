"""map: optional places (integer microdegrees) on ideas and projects, and district outlines
uploaded by staff as GeoJSON

Revision ID: 0019_map
Revises: 0018_self_declaration
"""
import sqlalchemy as sa
from alembic import op

revision = '0019_map'
down_revision = "0018_self_declaration"
branch_labels = None
depends_on = None

WHOLE_POINT = '(lat_e6 IS NULL) = (lon_e6 IS NULL)'


def upgrade():
    for table in ('proposal', 'project'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('lat_e6', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('lon_e6', sa.Integer(), nullable=True))
            batch_op.create_check_constraint('whole_point', WHOLE_POINT)
    op.create_table(
        'district_outline',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('polygons', sa.Text(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'],
                                name=op.f('fk_district_outline_cycle_id_cycle'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['district_id'], ['district.id'],
                                name=op.f('fk_district_outline_district_id_district'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_district_outline')),
        sa.UniqueConstraint('district_id', name=op.f('uq_district_outline_district_id')),
    )
    op.create_index('ix_district_outline_cycle_id', 'district_outline', ['cycle_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_district_outline_cycle_id', table_name='district_outline')
    op.drop_table('district_outline')
    for table in ('project', 'proposal'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint('whole_point', type_='check')
            batch_op.drop_column('lon_e6')
            batch_op.drop_column('lat_e6')
