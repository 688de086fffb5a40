"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}
# Set to True when this migration changes data a frozen cycle depends on (its manifest,
# ballots, participations, roll or chain): `pbvote upgrade` then refuses it while any cycle
# is frozen, unless the operator names it with --allow-frozen-change. An unflagged migration
# that changes such data is rolled back by the upgrade's re-verification anyway.
touches_frozen_cycles = False


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
