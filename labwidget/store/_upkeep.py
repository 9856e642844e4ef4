"""What a bulk write keeps up to date itself, set-based, instead of the per-row triggers.

On SQLite the triggers of migration 0007 count the people who labeled each item: for every
label, a probe of ``item_people`` at a random page (item ids are content hashes), and for a
person's first label of an item a row there and an update of the item's queue row. Over a
chunk of a bulk import that halves the write rate. So ``Batch`` writes a large chunk of label
events with those triggers dropped, then does their work for the whole chunk in two ordered
statements, then puts the triggers back, all inside the batch's own transaction: no other
connection ever sees the store without them, and a failure rolls the drop back too.

The queue keeps the same figures either way: ``item_queue.people`` is the number of
``item_people`` rows of the item (the triggers add one for each new row; migration 0007
backfilled it so), and here it is recounted for the items the chunk touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# A chunk at least this long is written with the triggers suspended: below it, dropping and
# creating them again costs more than running them.
BULK_ROWS = 1_000
# The triggers whose work ``_catch_up`` does, on the tables they fire on.
SUSPENDED = ("labwidget_queue_people", "labwidget_queue_count")

PEOPLE = """
INSERT INTO item_people (item_id, annotator)
SELECT DISTINCT item_id, annotator FROM label_events
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


@contextmanager
def sqlite_bulk(connection: sa.Connection) -> Iterator[None]:
    """Label events inserted inside the block get the queue's upkeep set-based at its end."""
    found = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)",
        SUSPENDED,
    ).all()
    if len(found) < len(SUSPENDED):
        yield  # a store before migration 0007 (or one changed by hand): nothing to take over
        return
    after = connection.exec_driver_sql("SELECT coalesce(max(seq), 0) FROM label_events").scalar()
    for name, _ in found:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    yield
    connection.execute(sa.text(PEOPLE), {"after": after})
    connection.execute(sa.text(COUNT), {"after": after})
    for _, sql in found:
        connection.exec_driver_sql(sql)
