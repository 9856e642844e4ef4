"""What a bulk write keeps up to date itself, set-based, instead of the per-row triggers.

On SQLite, triggers keep the work queue's people (migration 0007) and the summary's tallies
(0008) as each label is written: for every label, a probe of ``item_people`` at a random page
(item ids are content hashes), and for a person's first label of an item a row there and an
update of the item's queue row; then the tallies' rows, and a lookup of the label it replaces.
Over a chunk of a bulk import that more than halves the write rate. So ``Batch`` writes a large
chunk of label events with those triggers dropped, then does their work for the whole chunk in
a few ordered statements, then puts the triggers back, all inside the batch's own transaction:
no other connection ever sees the store without them, and a failure rolls the drop back too.

The figures are the same either way: ``item_queue.people`` is the number of ``item_people``
rows of the item (the triggers add one for each new row; migration 0007 backfilled it so), and
here it is recounted for the items the chunk touched; the tallies get what the chunk adds,
and lose the labels its events replace, as 0008's backfill and PostgreSQL's fold do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# A chunk at least this long is written with the triggers suspended: below it, dropping and
# creating them again costs more than running them.
BULK_ROWS = 1_000
# The triggers whose work ``sqlite_bulk`` does itself.
SUSPENDED = (
    "labwidget_queue_people",
    "labwidget_queue_count",
    "labwidget_tally_activity",
    "labwidget_tally_current",
)

PEOPLE = """
INSERT INTO item_people (item_id, annotator)
SELECT DISTINCT item_id, annotator FROM label_events NOT INDEXED
WHERE seq > :after AND source = 'human'
ORDER BY item_id, annotator
ON CONFLICT DO NOTHING
"""
COUNT = """
UPDATE item_queue SET people = (
  SELECT count(*) FROM item_people WHERE item_people.item_id = item_queue.item_id
)
WHERE item_id IN (SELECT item_id FROM label_events WHERE seq > :after AND source = 'human')
"""
# As migration 0008's triggers count: capped human time, the value a label is counted under,
# which labels count, and one (item, step, alt, annotator, kind) as another's (``p`` and ``t``).
CAPPED = (
    "CASE WHEN e.source <> 'human' OR e.duration_ms IS NULL THEN 0"
    " WHEN e.duration_ms > 600000 THEN 600000 ELSE e.duration_ms END"
)
# (SQLite's IS is an equality its planner looks up in the (item_id, step, alt, annotator,
# seq) index; an OR for the NULL step of a finish made it scan all of an annotator's events.)
SAME_KEY = (
    "p.item_id = t.item_id AND p.step IS t.step"
    " AND p.alt = t.alt AND p.annotator = t.annotator AND p.kind = t.kind"
)
ACTIVITY = f"""
INSERT INTO label_activity (hour, dataset, annotator, source, labels, ms)
SELECT substr(e.created_at, 1, 13), i.dataset, e.annotator, e.source, count(*), sum({CAPPED})
FROM label_events e JOIN items i ON i.id = e.item_id
WHERE e.seq > :after
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
ON CONFLICT (hour, dataset, annotator, source) DO UPDATE
SET labels = label_activity.labels + excluded.labels, ms = label_activity.ms + excluded.ms
"""
# For each key the chunk touched, the label current before it (the newest event up to
# ``after``) leaves the tally and the newest of all arrives; only those that count. The chunk's
# events are read by seq (NOT INDEXED: without statistics SQLite read every event in the
# order of the key index instead, to skip a sort).
CURRENT = f"""
WITH touched AS (
  SELECT DISTINCT e.item_id, e.step, e.alt, e.annotator, e.kind FROM label_events e NOT INDEXED
  WHERE e.seq > :after AND e.kind IN ('rating', 'flag', 'finish')
), ends AS (
  SELECT
    (SELECT max(p.seq) FROM label_events p WHERE {SAME_KEY} AND p.seq <= :after) AS before,
    (SELECT max(p.seq) FROM label_events p WHERE {SAME_KEY}) AS after
  FROM touched t
), changes AS (
  SELECT before AS seq, -1 AS n FROM ends WHERE before IS NOT NULL
  UNION ALL SELECT after, 1 FROM ends
)
INSERT INTO label_current (dataset, source, kind, value, labels)
SELECT i.dataset, e.source, e.kind,
  CASE WHEN e.kind = 'finish' THEN e.text ELSE CAST(e.value AS TEXT) END, sum(c.n)
FROM changes c JOIN label_events e ON e.seq = c.seq JOIN items i ON i.id = e.item_id
WHERE e.kind = 'finish' OR (e.kind = 'rating' AND e.value IS NOT NULL)
  OR (e.kind = 'flag' AND e.value = 1)
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
ON CONFLICT (dataset, source, kind, value) DO UPDATE
SET labels = label_current.labels + excluded.labels
"""


@contextmanager
def sqlite_bulk(connection: sa.Connection) -> Iterator[None]:
    """Label events inserted inside the block get the queue's upkeep set-based at its end."""
    found = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?, ?, ?)",
        SUSPENDED,
    ).all()
    if len(found) < len(SUSPENDED):
        yield  # a store before migration 0008 (or one changed by hand): nothing to take over
        return
    after = connection.exec_driver_sql("SELECT coalesce(max(seq), 0) FROM label_events").scalar()
    # A savepoint, so that a chunk that fails part-way takes its rows and the dropped triggers
    # back with it even when the caller catches the error and commits the rest of its batch.
    connection.exec_driver_sql("SAVEPOINT labwidget_bulk")
    try:
        for name, _ in found:
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        yield
        connection.execute(sa.text(PEOPLE), {"after": after})
        connection.execute(sa.text(COUNT), {"after": after})
        connection.execute(sa.text(ACTIVITY), {"after": after})
        connection.execute(sa.text(CURRENT), {"after": after})
        for _, sql in found:
            connection.exec_driver_sql(sql)
    except BaseException:
        connection.exec_driver_sql("ROLLBACK TO labwidget_bulk")
        connection.exec_driver_sql("RELEASE labwidget_bulk")
        raise
    connection.exec_driver_sql("RELEASE labwidget_bulk")
