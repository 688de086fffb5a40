"""project comments: residents discuss ballot projects as well as ideas; a comment names
exactly one of the two

Revision ID: 0017_project_comments
Revises: 0016_cycleops
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_project_comments'
down_revision = "0016_cycleops"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
        batch_op.alter_column('proposal_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_comment_project_id_project'), 'project',
                                    ['project_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_comment_project_id'), ['project_id'], unique=False)
        batch_op.create_check_constraint(
            op.f('ck_comment_one_target'),
            '(proposal_id IS NULL AND project_id IS NOT NULL) '
            'OR (proposal_id IS NOT NULL AND project_id IS NULL)')


def downgrade():
    # Comments on projects have no place in the older schema: they go with the column.
    op.execute("DELETE FROM comment WHERE project_id IS NOT NULL")
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_comment_one_target'), type_='check')
        batch_op.drop_index(batch_op.f('ix_comment_project_id'))
        batch_op.drop_constraint(batch_op.f('fk_comment_project_id_project'), type_='foreignkey')
        batch_op.drop_column('project_id')
        batch_op.alter_column('proposal_id', existing_type=sa.Integer(), nullable=False)
