"""inspection results count the general items and the floating persons entered in the system

Revision ID: 0055_rates16
Revises: 0054_seal18
Create Date: 2026-12-06 23:00:00

Issue 16: 一般项目齐全准确率 is the general items present and right over the general items expected (DOMAIN), not
the persons with all their general items right; and 流动人口采集录入率 is the registered floating persons entered in
the system over those registered, beside 人来登记率 (registered over found). A result now keeps the general items
missing or wrong, expected and right, and the floating persons entered.
Existing results: where every person found had all general items right, none was wrong and the items expected are
the persons found times the five general items; elsewhere the items are not known and stay NULL (such a result is
left out of the items rate, not guessed). Before this revision an inspector counted the floating persons
registered in the system, so those entered are those registered.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0055_rates16"
down_revision: str | None = "0054_seal18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# persons.rules.GENERAL_ITEMS as it stood at this revision (education, marital status, occupation, workplace,
# phone): a migration keeps its own figure rather than following later changes of the list.
GENERAL_ITEMS_PER_PERSON = 5


def upgrade() -> None:
    for name in ("general_items_wrong", "general_items_expected", "general_items_right", "floating_entered"):
        op.add_column("inspection_results", sa.Column(name, sa.Integer(), nullable=True))
    op.execute(
        "UPDATE inspection_results SET floating_entered = floating_registered, "
        "general_items_wrong = CASE WHEN general_right = persons_present THEN 0 END, "
        f"general_items_expected = CASE WHEN general_right = persons_present "
        f"THEN persons_present * {GENERAL_ITEMS_PER_PERSON} END, "
        f"general_items_right = CASE WHEN general_right = persons_present "
        f"THEN persons_present * {GENERAL_ITEMS_PER_PERSON} END"
    )
    with op.batch_alter_table("inspection_results") as batch:
        batch.alter_column("floating_entered", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("inspection_results") as batch:
        for name in (
            "floating_entered",
            "general_items_right",
            "general_items_expected",
            "general_items_wrong",
        ):
            batch.drop_column(name)
