"""Model predictions and adjudications as label kinds; the work queue the database keeps.

``item_queue`` has one row per item: the people who labeled it (``people``, counted from
``item_people``) and the priorities ``labwidget.active`` writes when a model's scores land. It
is indexed by (people, priority), so a claim reads the first open items of an order from an
index instead of scanning every item and its labels. Triggers keep it: a new item gets its row,
and a "human" label event adds its annotator to ``item_people`` and the count. On PostgreSQL
the trigger functions run with their owner's rights (annotators cannot write these tables
themselves), and people are counted at commit, so no label waits on another's transaction.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD_KIND_CHECK = (
    "(kind = 'rating' AND step IS NOT NULL AND (value IS NULL OR value IN (-1, 0, 1)))"
    " OR (kind = 'flag' AND step IS NOT NULL AND value IN (0, 1))"
    " OR (kind = 'choice' AND step IS NOT NULL AND value >= 0)"
    " OR (kind = 'replacement' AND step IS NOT NULL AND text IS NOT NULL)"
    " OR (kind = 'note' AND text IS NOT NULL)"
    " OR (kind = 'finish' AND step IS NULL"
    " AND text IN ('solution', 'found_error', 'bad_problem', 'give_up'))"
    " OR (kind = 'score' AND step IS NULL AND score IS NOT NULL)"
)
KIND_CHECK = (
    OLD_KIND_CHECK + " OR (kind = 'prediction' AND step IS NOT NULL AND value IN (-1, 1)"
    " AND score >= 0 AND score <= 1)"
    " OR (kind = 'adjudication' AND step IS NOT NULL AND value IN (-1, 0, 1))"
)

# SQLite runs one writer at a time. A person's label adds them to item_people unless they are
# there (most labels: one primary-key probe, nothing else), and only a new row there counts.
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER labwidget_queue_item AFTER INSERT ON items BEGIN
      INSERT OR IGNORE INTO item_queue (item_id, dataset, created_at, people)
      VALUES (NEW.id, NEW.dataset, NEW.created_at, 0);
    END
    """,
    """
    CREATE TRIGGER labwidget_queue_people AFTER INSERT ON label_events
    WHEN NEW.source = 'human' BEGIN
      INSERT OR IGNORE INTO item_people (item_id, annotator)
      VALUES (NEW.item_id, NEW.annotator);
    END
    """,
    """
    CREATE TRIGGER labwidget_queue_count AFTER INSERT ON item_people BEGIN
      UPDATE item_queue SET people = people + 1 WHERE item_id = NEW.item_id;
    END
    """,
)

# A person is counted when their label's transaction commits (a deferred trigger): counting at
# the insert would lock the item's queue row, and so every other label of the item, until a
# long transaction (a bulk import, a slow writer) committed. At commit the row is held for a
# moment; ON CONFLICT skips a person already counted, or counted meanwhile by another writer.
POSTGRES_FUNCTIONS = """
CREATE OR REPLACE FUNCTION labwidget_queue_items() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, {schema}, pg_temp
AS $$
BEGIN
  INSERT INTO item_queue (item_id, dataset, created_at, people)
  SELECT id, dataset, created_at, 0 FROM new_items ORDER BY id
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION labwidget_queue_people() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, {schema}, pg_temp
AS $$
BEGIN
  INSERT INTO item_people (item_id, annotator) VALUES (NEW.item_id, NEW.annotator)
  ON CONFLICT DO NOTHING;
  IF FOUND THEN
    UPDATE item_queue SET people = people + 1 WHERE item_id = NEW.item_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER labwidget_queue_items AFTER INSERT ON items
REFERENCING NEW TABLE AS new_items
FOR EACH STATEMENT EXECUTE FUNCTION labwidget_queue_items();

CREATE CONSTRAINT TRIGGER labwidget_queue_people AFTER INSERT ON label_events
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.source = 'human') EXECUTE FUNCTION labwidget_queue_people();

REVOKE ALL ON FUNCTION labwidget_queue_items() FROM PUBLIC;
REVOKE ALL ON FUNCTION labwidget_queue_people() FROM PUBLIC;
"""

PRIORITIES = ("uncertainty", "convincing_wrong", "disagreement")
BACKFILL = (
    "INSERT INTO item_queue (item_id, dataset, created_at, people) "
    "SELECT id, dataset, created_at, 0 FROM items",
    "INSERT INTO item_people (item_id, annotator) "
    "SELECT DISTINCT item_id, annotator FROM label_events WHERE source = 'human'",
    "UPDATE item_queue SET people = "
    "(SELECT count(*) FROM item_people WHERE item_people.item_id = item_queue.item_id)",
)


def _replace_kind_check(check: str) -> None:
    with op.batch_alter_table("label_events") as batch:
        batch.drop_constraint(op.f("ck_label_events_kind_value"), type_="check")
        batch.create_check_constraint("kind_value", check)


def upgrade() -> None:
    _replace_kind_check(KIND_CHECK)
    op.create_table(
        "item_queue",
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("uncertainty", sa.Float(), nullable=True),
        sa.Column("convincing_wrong", sa.Float(), nullable=True),
        sa.Column("disagreement", sa.Float(), nullable=True),
        sa.Column("scored_by", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_queue_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_queue")),
    )
    for key in ("created_at", None):
        columns = ["people", *([key] if key else []), "item_id"]
        op.create_index(f"ix_item_queue_{'_'.join(columns)}", "item_queue", columns)
    # Only the items a model scored are in a priority's index: unscored items (most, while
    # they are added) cost these indexes nothing.
    for key in PRIORITIES:
        scored = sa.text(f"{key} IS NOT NULL")
        op.create_index(
            f"ix_item_queue_people_{key}_item_id", "item_queue", ["people", key, "item_id"],
            sqlite_where=scored, postgresql_where=scored,
        )  # fmt: skip
    op.create_table(
        "item_people",
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("annotator", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_people_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", "annotator", name=op.f("pk_item_people")),
    )
    for statement in BACKFILL:
        op.execute(statement)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.exec_driver_sql("SELECT quote_ident(current_schema())").scalar_one()
        op.execute(POSTGRES_FUNCTIONS.format(schema=schema))
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS labwidget_queue_people ON label_events")
        op.execute("DROP TRIGGER IF EXISTS labwidget_queue_items ON items")
        op.execute("DROP FUNCTION IF EXISTS labwidget_queue_people()")
        op.execute("DROP FUNCTION IF EXISTS labwidget_queue_items()")
    else:
        op.execute("DROP TRIGGER IF EXISTS labwidget_queue_count")
        op.execute("DROP TRIGGER IF EXISTS labwidget_queue_people")
        op.execute("DROP TRIGGER IF EXISTS labwidget_queue_item")
    op.drop_table("item_people")
    op.drop_table("item_queue")
    op.execute("DELETE FROM label_events WHERE kind IN ('prediction', 'adjudication')")
    _replace_kind_check(OLD_KIND_CHECK)
