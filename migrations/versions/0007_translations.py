"""content translations: project and proposal titles and texts per locale

Revision ID: 0007_translations
Revises: 0006_in_person
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_translations'
down_revision = '0006_in_person'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('content_translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=20), nullable=False),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_translation')),
    sa.UniqueConstraint('object_type', 'object_id', 'locale', 'field',
                        name=op.f('uq_content_translation_object_type_object_id_locale_field'))
    )


def downgrade():
    op.drop_table('content_translation')
