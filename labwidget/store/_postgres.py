"""PostgreSQL specifics: a team's row-level security, and COPY for bulk writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

ANNOTATOR_ROLE = "labwidget_annotator"

# Who may do what once `labwidget db init` has run. Table owners (the admin who ran it) bypass
# row-level security; members of labwidget_annotator are held to their own labels and claims.
SECURITY_SQL = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ANNOTATOR_ROLE}') THEN
    CREATE ROLE {ANNOTATOR_ROLE} NOLOGIN;
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO {ANNOTATOR_ROLE};
GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ANNOTATOR_ROLE};
GRANT INSERT ON items, steps, comparisons, label_events, preference_events, token_scores
  TO {ANNOTATOR_ROLE};
GRANT INSERT, UPDATE, DELETE ON claims TO {ANNOTATOR_ROLE};
GRANT UPDATE ON items TO {ANNOTATOR_ROLE};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {ANNOTATOR_ROLE};

ALTER TABLE label_events ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS read_all ON label_events;
CREATE POLICY read_all ON label_events FOR SELECT USING (true);
DROP POLICY IF EXISTS insert_own ON label_events;
CREATE POLICY insert_own ON label_events FOR INSERT WITH CHECK (annotator = current_user);

ALTER TABLE preference_events ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS read_all ON preference_events;
CREATE POLICY read_all ON preference_events FOR SELECT USING (true);
DROP POLICY IF EXISTS insert_own ON preference_events;
CREATE POLICY insert_own ON preference_events FOR INSERT WITH CHECK (annotator = current_user);

ALTER TABLE claims ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS read_all ON claims;
CREATE POLICY read_all ON claims FOR SELECT USING (true);
DROP POLICY IF EXISTS write_own ON claims;
CREATE POLICY write_own ON claims FOR ALL
  USING (annotator = current_user) WITH CHECK (annotator = current_user);

-- Claiming locks item rows (SELECT ... FOR UPDATE needs UPDATE rights), but no one may change them.
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS read_all ON items;
CREATE POLICY read_all ON items FOR SELECT USING (true);
DROP POLICY IF EXISTS insert_any ON items;
CREATE POLICY insert_any ON items FOR INSERT WITH CHECK (true);
DROP POLICY IF EXISTS lock_only ON items;
CREATE POLICY lock_only ON items FOR UPDATE USING (true) WITH CHECK (false);
"""


def secure(connection: sa.Connection) -> None:
    """Create the annotator role, its grants and the row-level-security policies (idempotent)."""
    connection.exec_driver_sql(SECURITY_SQL)


def copy_insert(
    connection: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> int:
    """Insert rows with COPY, skipping keys already present; returns how many were new.

    COPY itself cannot skip duplicates, so rows go to a temporary table first and from there
    into the real one with INSERT … ON CONFLICT DO NOTHING.
    """
    staging = f"labwidget_staging_{table.name}"
    names = ", ".join(columns)
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "
        f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    inserted = connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} ON CONFLICT DO NOTHING"
    ).rowcount
    connection.exec_driver_sql(f"TRUNCATE {staging}")
    return int(inserted)
