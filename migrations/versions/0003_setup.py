"""setup: stored manifest, roll-import keys and display name, project images

Revision ID: 0003_setup
Revises: 0002_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_setup'
down_revision = '0002_accounts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manifest_json', sa.Text(), nullable=True))
    with op.batch_alter_table('roll_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roll_key_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('details_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('display_name', sa.String(length=200), nullable=True))
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_name', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('image_name')
    with op.batch_alter_table('roll_entry', schema=None) as batch_op:
        batch_op.drop_column('display_name')
        batch_op.drop_column('details_hash')
        batch_op.drop_column('roll_key_hash')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('manifest_json')
