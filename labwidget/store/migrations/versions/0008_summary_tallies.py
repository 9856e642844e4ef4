"""Counts kept as labels are written, so that the summary reads a few thousand rows, not 1M.

``label_activity``: label events and capped human time (each event's ``duration_ms``, at most
the summary's default idle cap of 10 minutes) per UTC hour, dataset, annotator and source.
``label_current``: the current labels (the newest event per item, step, alternative, annotator
and kind, counted when it says something: a rating that is not cleared, a flag that is set, a
finish) per dataset, source, kind and value. ``store.summary`` reads them when its options fit
(the default idle cap, a window on whole hours); otherwise it counts the events as before.

SQLite keeps them by row triggers, and ``Batch`` writes a large chunk of events with the
triggers dropped and does their work set-based (``labwidget.store._upkeep``). PostgreSQL keeps
them when a transaction commits: a statement trigger notes the new events' numbers in
``label_tally_pending``, and one deferred trigger per transaction folds them in, set-based,
under a transaction-level advisory lock, so the folds of concurrent writers see each other's
events in turn, and a long import holds no tally row while it runs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CAP_MS = 600_000
CAPPED = (
    "CASE WHEN {e}.source <> 'human' OR {e}.duration_ms IS NULL THEN 0"
    f" WHEN {{e}}.duration_ms > {CAP_MS} THEN {CAP_MS} ELSE {{e}}.duration_ms END"
)
VALUE = "CASE WHEN {e}.kind = 'finish' THEN {e}.text ELSE CAST({e}.value AS TEXT) END"
COUNTED = (
    "({e}.kind = 'finish' OR ({e}.kind = 'rating' AND {e}.value IS NOT NULL)"
    " OR ({e}.kind = 'flag' AND {e}.value = 1))"
)
# The same step, NULL-safely (a finish has none). SQLite's IS, an equality its planner looks
# up in the (item_id, step, alt, annotator, seq) index; with an OR instead it scanned all of an
# annotator's events per key. PostgreSQL finds the item's few events by item_id and filters.
SAME_KEY = (
    "p.item_id = t.item_id AND p.step {same} t.step"
    " AND p.alt = t.alt AND p.annotator = t.annotator AND p.kind = t.kind"
)

# Set-based: the events ``{new}`` selects (a condition on ``e``) added to both tallies. For
# each (item, step, alt, annotator, kind) they touch, the label current before them (the newest
# event that is not one of them, ``{old}`` on ``p``) leaves, and the newest of all arrives.
ACTIVITY = f"""
INSERT INTO label_activity (hour, dataset, annotator, source, labels, ms)
SELECT {{hour}}, i.dataset, e.annotator, e.source, count(*), sum({CAPPED.format(e="e")})
FROM label_events e JOIN items i ON i.id = e.item_id
WHERE {{new}}
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
ON CONFLICT (hour, dataset, annotator, source) DO UPDATE
SET labels = label_activity.labels + excluded.labels, ms = label_activity.ms + excluded.ms
"""
CURRENT = f"""
WITH touched AS (
  SELECT DISTINCT e.item_id, e.step, e.alt, e.annotator, e.kind FROM label_events e
  WHERE {{new}} AND e.kind IN ('rating', 'flag', 'finish')
), ends AS (
  SELECT
    (SELECT max(p.seq) FROM label_events p WHERE {SAME_KEY} AND {{old}}) AS before,
    (SELECT max(p.seq) FROM label_events p WHERE {SAME_KEY}) AS after
  FROM touched t
), changes AS (
  SELECT before AS seq, -1 AS n FROM ends WHERE before IS NOT NULL
  UNION ALL SELECT after, 1 FROM ends
)
INSERT INTO label_current (dataset, source, kind, value, labels)
SELECT i.dataset, e.source, e.kind, {VALUE.format(e="e")}, sum(c.n)
FROM changes c JOIN label_events e ON e.seq = c.seq JOIN items i ON i.id = e.item_id
WHERE {COUNTED.format(e="e")}
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
ON CONFLICT (dataset, source, kind, value) DO UPDATE
SET labels = label_current.labels + excluded.labels
"""
SQLITE_HOUR = "substr(e.created_at, 1, 13)"
POSTGRES_HOUR = "to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"

SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER labwidget_tally_activity AFTER INSERT ON label_events BEGIN
      INSERT INTO label_activity (hour, dataset, annotator, source, labels, ms)
      SELECT substr(NEW.created_at, 1, 13), dataset, NEW.annotator, NEW.source, 1,
        {CAPPED.format(e="NEW")}
      FROM items WHERE id = NEW.item_id
      ON CONFLICT (hour, dataset, annotator, source) DO UPDATE
      SET labels = labels + 1, ms = ms + excluded.ms;
    END
    """,
    f"""
    CREATE TRIGGER labwidget_tally_current AFTER INSERT ON label_events
    WHEN NEW.kind IN ('rating', 'flag', 'finish') BEGIN
      UPDATE label_current SET labels = labels - 1
      WHERE (dataset, source, kind, value) = (
        SELECT i.dataset, p.source, p.kind, {VALUE.format(e="p")}
        FROM label_events p JOIN items i ON i.id = p.item_id
        WHERE p.item_id = NEW.item_id AND p.step IS NEW.step AND p.alt = NEW.alt
          AND p.annotator = NEW.annotator AND p.kind = NEW.kind AND p.seq < NEW.seq
          AND {COUNTED.format(e="p")}
          AND p.seq = (
            SELECT max(q.seq) FROM label_events q
            WHERE q.item_id = NEW.item_id AND q.step IS NEW.step AND q.alt = NEW.alt
              AND q.annotator = NEW.annotator AND q.kind = NEW.kind AND q.seq < NEW.seq
          )
      );
      INSERT INTO label_current (dataset, source, kind, value, labels)
      SELECT dataset, NEW.source, NEW.kind, {VALUE.format(e="NEW")}, 1
      FROM items WHERE id = NEW.item_id AND {COUNTED.format(e="NEW")}
      ON CONFLICT (dataset, source, kind, value) DO UPDATE SET labels = labels + 1;
    END
    """,
)

MINE = "seq IN (SELECT seq FROM label_tally_pending WHERE txid = txid_current())"
POSTGRES_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION labwidget_tally_note() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, {{schema}}, pg_temp
AS $$
BEGIN
  INSERT INTO label_tally_pending (seq, txid) SELECT seq, txid_current() FROM new_events;
  INSERT INTO label_tally_marks (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION labwidget_tally_fold() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, {{schema}}, pg_temp
AS $fold$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('labwidget_tally'));
  {ACTIVITY.format(hour=POSTGRES_HOUR, new="e." + MINE)};
  {CURRENT.format(new="e." + MINE, old="NOT p." + MINE, same="IS NOT DISTINCT FROM")};
  DELETE FROM label_tally_pending WHERE txid = txid_current();
  DELETE FROM label_tally_marks WHERE txid = txid_current();
  RETURN NULL;
END $fold$;

CREATE TRIGGER labwidget_tally_note AFTER INSERT ON label_events
REFERENCING NEW TABLE AS new_events
FOR EACH STATEMENT EXECUTE FUNCTION labwidget_tally_note();

CREATE CONSTRAINT TRIGGER labwidget_tally_fold AFTER INSERT ON label_tally_marks
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION labwidget_tally_fold();

REVOKE ALL ON FUNCTION labwidget_tally_note() FROM PUBLIC;
REVOKE ALL ON FUNCTION labwidget_tally_fold() FROM PUBLIC;
"""


def upgrade() -> None:
    key = ("dataset", sa.String(200)), ("source", sa.String(200))
    op.create_table(
        "label_activity",
        sa.Column("hour", sa.String(13), nullable=False),
        *(sa.Column(name, kind, nullable=False) for name, kind in key),
        sa.Column("annotator", sa.String(200), nullable=False),
        sa.Column("labels", sa.BigInteger(), nullable=False),
        sa.Column("ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "hour", "dataset", "annotator", "source", name=op.f("pk_label_activity")
        ),
    )
    op.create_table(
        "label_current",
        *(sa.Column(name, kind, nullable=False) for name, kind in key),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("labels", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dataset", "source", "kind", "value", name=op.f("pk_label_current")
        ),
    )
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    hour = POSTGRES_HOUR if postgres else SQLITE_HOUR
    op.execute(ACTIVITY.format(hour=hour, new="true"))
    same = "IS NOT DISTINCT FROM" if postgres else "IS"
    op.execute(CURRENT.format(new="true", old="false", same=same))
    if postgres:
        op.create_table(
            "label_tally_pending",
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.Column("txid", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("seq", name=op.f("pk_label_tally_pending")),
        )
        op.create_index("ix_label_tally_pending_txid", "label_tally_pending", ["txid"])
        op.create_table(
            "label_tally_marks",
            sa.Column("txid", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("txid", name=op.f("pk_label_tally_marks")),
        )
        schema = bind.exec_driver_sql("SELECT quote_ident(current_schema())").scalar_one()
        op.execute(POSTGRES_FUNCTIONS.format(schema=schema))
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS labwidget_tally_note ON label_events")
        op.drop_table("label_tally_marks")
        op.drop_table("label_tally_pending")
        op.execute("DROP FUNCTION IF EXISTS labwidget_tally_fold()")
        op.execute("DROP FUNCTION IF EXISTS labwidget_tally_note()")
    else:
        op.execute("DROP TRIGGER IF EXISTS labwidget_tally_current")
        op.execute("DROP TRIGGER IF EXISTS labwidget_tally_activity")
    op.drop_table("label_current")
    op.drop_table("label_activity")
