"""PostgreSQL specifics: what annotators may write, the item functions, and COPY for bulk writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from labwidget.store._errors import LabelError

ANNOTATOR_ROLE = "labwidget_annotator"
# The functions of migration 0005: the only way anyone but the tables' owner adds steps.
ADD_ITEMS = "SELECT labwidget_add_items(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
ADD_ALTERNATIVES = "SELECT labwidget_add_alternatives(%s, %s, %s)"
FUNCTIONS = (
    "labwidget_add_items(text[], text[], text[], text[], text[], text[], text[], integer[], "
    "integer[], text[])",
    "labwidget_add_alternatives(text, integer, text[])",
)
# Tables annotators add rows to, each with the row-level-security policy that bounds those rows.
# The database numbers ``seq``: no one else may set it, so INSERT is granted on every column
# but those filled from a sequence (see ``_settable_columns``).
INSERT_POLICIES = {
    "label_events": "annotator = current_user",
    "preference_events": "annotator = current_user",
    # The id of a comparison is the hash of its content (labwidget.store._events.content_id),
    # so no one can plant other answers under the id of a pair someone will add later.
    "comparisons": (
        "id = left(encode(sha256(convert_to('[\"comparison\",' || to_json(prompt)::text || ','"
        " || to_json(answer_a)::text || ',' || to_json(answer_b)::text || ']', 'UTF8')), 'hex'),"
        " 32)"
    ),
    # Scores go with an item that has none yet (its key): added by anyone, changed by no one.
    "token_scores": "true",
}

# Who may do what once `labwidget db init` has run. It starts by taking every privilege the
# role holds here away, so re-running it brings a database set up by an older labwidget to
# these rules, and a table it does not name (one added by a later migration) is read-only.
# Table owners (the admin who ran it) bypass row-level security.
RESET_SQL = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ANNOTATOR_ROLE}') THEN
    CREATE ROLE {ANNOTATOR_ROLE} NOLOGIN;
  END IF;
END $$;
REVOKE ALL ON ALL TABLES IN SCHEMA {{schema}} FROM {ANNOTATOR_ROLE};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA {{schema}} FROM {ANNOTATOR_ROLE};
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {{schema}} FROM {ANNOTATOR_ROLE};
GRANT USAGE ON SCHEMA {{schema}} TO {ANNOTATOR_ROLE};
GRANT SELECT ON ALL TABLES IN SCHEMA {{schema}} TO {ANNOTATOR_ROLE};
ALTER DEFAULT PRIVILEGES IN SCHEMA {{schema}} GRANT SELECT ON TABLES TO {ANNOTATOR_ROLE};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA {{schema}} TO {ANNOTATOR_ROLE};
"""

CLAIMS_SQL = f"""
GRANT INSERT, UPDATE, DELETE ON claims TO {ANNOTATOR_ROLE};
ALTER TABLE claims ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS read_all ON claims;
CREATE POLICY read_all ON claims FOR SELECT USING (true);
DROP POLICY IF EXISTS write_own ON claims;
CREATE POLICY write_own ON claims FOR ALL
  USING (annotator = current_user) WITH CHECK (annotator = current_user);

-- Claiming locks item rows (SELECT ... FOR UPDATE needs UPDATE rights), but no one may change
-- them; items and their steps are added only through labwidget_add_items.
GRANT UPDATE ON items TO {ANNOTATOR_ROLE};
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS read_all ON items;
CREATE POLICY read_all ON items FOR SELECT USING (true);
DROP POLICY IF EXISTS insert_any ON items;
DROP POLICY IF EXISTS lock_only ON items;
CREATE POLICY lock_only ON items FOR UPDATE USING (true) WITH CHECK (false);
"""


def secure(connection: sa.Connection) -> None:
    """Give the annotator role exactly its rights here, and set the row-level policies.

    Idempotent, and it brings older setups to the current rules: members of
    ``labwidget_annotator`` read every table; add labels, preferences and comparisons (their
    own, and with the ``seq`` the database gives them); write their own claims; and add items,
    steps and alternatives only through ``labwidget_add_items`` and
    ``labwidget_add_alternatives``. Nothing else, on any table, however it got there.
    """
    schema = connection.exec_driver_sql("SELECT quote_ident(current_schema())").scalar_one()
    connection.exec_driver_sql(RESET_SQL.format(schema=schema))
    for table, check in INSERT_POLICIES.items():
        columns = ", ".join(_settable_columns(connection, table))
        connection.exec_driver_sql(
            f"GRANT INSERT ({columns}) ON {table} TO {ANNOTATOR_ROLE};"
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
            f"DROP POLICY IF EXISTS read_all ON {table};"
            f"CREATE POLICY read_all ON {table} FOR SELECT USING (true);"
            f"DROP POLICY IF EXISTS insert_own ON {table};"
            f"DROP POLICY IF EXISTS insert_checked ON {table};"
            f"CREATE POLICY insert_checked ON {table} FOR INSERT WITH CHECK ({check});"
        )
    connection.exec_driver_sql(CLAIMS_SQL)
    for function in FUNCTIONS:
        connection.exec_driver_sql(f"GRANT EXECUTE ON FUNCTION {function} TO {ANNOTATOR_ROLE}")


def is_secured(connection: sa.Connection) -> bool:
    """Whether ``labwidget db init`` set up the annotator role's rights in this database."""
    return bool(
        connection.exec_driver_sql(
            "SELECT EXISTS (SELECT FROM pg_class c, aclexplode(c.relacl) acl "
            "JOIN pg_roles r ON r.oid = acl.grantee "
            "WHERE c.oid = 'label_events'::regclass AND r.rolname = %s)",
            (ANNOTATOR_ROLE,),
        ).scalar_one()
    )


def _settable_columns(connection: sa.Connection, table: str) -> list[str]:
    """The columns of ``table`` a writer may set: all but those a sequence or identity fills."""
    rows = connection.exec_driver_sql(
        "SELECT quote_ident(a.attname) FROM pg_attribute a "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped "
        "AND a.attidentity = '' "
        "AND coalesce(pg_get_expr(d.adbin, d.adrelid), '') NOT LIKE 'nextval(%%' "
        "ORDER BY a.attnum",
        (table,),
    )
    return list(rows.scalars())


def add_items(
    connection: sa.Connection,
    item_rows: Sequence[dict[str, Any]],
    step_rows: Sequence[dict[str, Any]],
) -> int:
    """Add items with all of their steps through ``labwidget_add_items``; returns the new count.

    The function refuses an item whose id is not the hash of its content or whose steps do not
    count up from 0, and adds no step to an item that is already there.
    """
    parameters = (
        [row["id"] for row in item_rows],
        [row["dataset"] for row in item_rows],
        [row["prompt"] for row in item_rows],
        [json.dumps(row["meta"]) for row in item_rows],
        [row["source"] for row in item_rows],
        [row["created_at"].isoformat() for row in item_rows],
        [row["item_id"] for row in step_rows],
        [row["position"] for row in step_rows],
        [row["alt"] for row in step_rows],
        [row["text"] for row in step_rows],
    )
    return int(_call(connection, ADD_ITEMS, parameters))


def add_alternatives(
    connection: sa.Connection, item: str, step: int, texts: list[str]
) -> list[int]:
    """Append ``texts`` at ``step`` of ``item``; their indexes (a known text keeps its own)."""
    return list(_call(connection, ADD_ALTERNATIVES, (item, step, texts)))


def _call(connection: sa.Connection, statement: str, parameters: tuple[Any, ...]) -> Any:
    """Run one of the item functions; a refusal comes out as a LabelError saying why."""
    try:
        return connection.exec_driver_sql(statement, parameters).scalar_one()
    except sa.exc.IntegrityError as exc:
        # The function's own sentence, without the PL/pgSQL context lines psycopg appends.
        reason = exc.orig.diag.message_primary  # type: ignore[union-attr]
        raise LabelError(f"nothing was written: {reason}") from exc


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
