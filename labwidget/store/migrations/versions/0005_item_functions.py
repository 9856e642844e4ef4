"""On PostgreSQL, items and their steps are written only through two functions.

``labwidget_add_items`` inserts new items together with all of their steps, after checking
that each item's id is the content hash of its prompt and steps (so no one can plant other
content under the id of an item someone will add later) and that positions and alternatives
count up from 0. Steps of an item that is already there are never added: adding an item again
is a no-op, as in ``Store.add_item``. ``labwidget_add_alternatives`` appends candidate texts at
an existing step, one writer per item at a time.

Both run with their owner's rights (SECURITY DEFINER), so ``labwidget db init`` can take
INSERT on ``items`` and ``steps`` away from annotators while ``Store.add_item``, ``batch()``
and ``add_alternatives`` keep working for them. Nobody but the owner may run them until
``db init`` grants them to ``labwidget_annotator``.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ADD_ITEMS = "labwidget_add_items(text[], text[], text[], text[], text[], text[], " \
    "text[], integer[], integer[], text[])"  # fmt: skip
ADD_ALTERNATIVES = "labwidget_add_alternatives(text, integer, text[])"

# The id check mirrors labwidget.store._events.item_content_id: the first 32 hex digits of the
# SHA-256 of json.dumps([prompt, steps], ensure_ascii=False, separators=(",", ":")), where a
# step with one alternative is its text and a step with several is the list of them.
# PostgreSQL's to_json escapes a string exactly as Python's json module does without ASCII
# escaping (quote, backslash, \b \f \n \r \t, other control characters as \u00xx).
ADD_ITEMS_SQL = """
CREATE OR REPLACE FUNCTION labwidget_add_items(
    ids text[], datasets text[], prompts text[], metas text[], sources text[], created text[],
    step_items text[], step_positions integer[], step_alts integer[], step_texts text[]
) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, {schema}, pg_temp
AS $$
DECLARE
  bad text;
  added integer;
BEGIN
  IF cardinality(ids) IS DISTINCT FROM cardinality(datasets)
     OR cardinality(ids) IS DISTINCT FROM cardinality(prompts)
     OR cardinality(ids) IS DISTINCT FROM cardinality(metas)
     OR cardinality(ids) IS DISTINCT FROM cardinality(sources)
     OR cardinality(ids) IS DISTINCT FROM cardinality(created)
     OR cardinality(step_items) IS DISTINCT FROM cardinality(step_positions)
     OR cardinality(step_items) IS DISTINCT FROM cardinality(step_alts)
     OR cardinality(step_items) IS DISTINCT FROM cardinality(step_texts) THEN
    RAISE EXCEPTION 'labwidget_add_items: the item arrays and the step arrays must each be '
      'of one length' USING ERRCODE = 'check_violation';
  END IF;

  WITH new_items AS (
    SELECT * FROM unnest(ids, prompts) AS t(id, prompt)
  ), new_steps AS (
    SELECT * FROM unnest(step_items, step_positions, step_alts, step_texts)
      AS t(item_id, position, alt, text)
  ), per_position AS (
    SELECT item_id, position,
           count(*) = count(DISTINCT alt) AND min(alt) = 0 AND max(alt) = count(*) - 1 AS ok,
           CASE WHEN count(*) = 1 THEN min(to_json(text)::text)
                ELSE '[' || string_agg(to_json(text)::text, ',' ORDER BY alt) || ']' END AS json
    FROM new_steps GROUP BY item_id, position
  ), per_item AS (
    SELECT item_id,
           bool_and(ok) AND min(position) = 0 AND max(position) = count(*) - 1 AS ok,
           '[' || string_agg(json, ',' ORDER BY position) || ']' AS json
    FROM per_position GROUP BY item_id
  ), checked AS (
    SELECT coalesce(i.id, s.item_id) AS id,
           CASE
             WHEN i.id IS NULL THEN 'has steps but is not among the items added with them'
             WHEN NOT coalesce(s.ok, true) THEN
               'has steps whose positions or alternatives do not count up from 0'
             WHEN i.id IS DISTINCT FROM left(encode(sha256(convert_to(
                 '[' || to_json(i.prompt)::text || ',' || coalesce(s.json, '[]') || ']',
                 'UTF8')), 'hex'), 32)
               THEN 'is not the content hash of its prompt and steps'
           END AS problem
    FROM new_items i FULL JOIN per_item s ON s.item_id = i.id
  )
  SELECT format('item %s %s', quote_literal(id), problem) INTO bad
  FROM checked WHERE problem IS NOT NULL LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION '%', bad USING ERRCODE = 'check_violation';
  END IF;

  WITH added AS (
    INSERT INTO items (id, dataset, prompt, meta, source, created_at)
    SELECT id, dataset, prompt, meta::json, source, created_at::timestamptz
    FROM unnest(ids, datasets, prompts, metas, sources, created)
      AS t(id, dataset, prompt, meta, source, created_at)
    ON CONFLICT DO NOTHING
    RETURNING id
  ), added_steps AS (
    INSERT INTO steps (item_id, position, alt, text, chosen)
    SELECT s.item_id, s.position, s.alt, s.text, s.alt = 0
    FROM unnest(step_items, step_positions, step_alts, step_texts)
      AS s(item_id, position, alt, text)
    JOIN added ON added.id = s.item_id
  )
  SELECT count(*) INTO added FROM added;
  RETURN added;
END $$
"""

ADD_ALTERNATIVES_SQL = """
CREATE OR REPLACE FUNCTION labwidget_add_alternatives(item text, at integer, texts text[])
RETURNS integer[]
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, {schema}, pg_temp
AS $$
DECLARE
  last_alt integer;
  found integer;
  candidate text;
  indexes integer[] := '{{}}';
BEGIN
  -- One writer of an item's alternatives at a time: two at once would both take the next index.
  PERFORM FROM items WHERE id = item FOR UPDATE;
  SELECT max(alt) INTO last_alt FROM steps WHERE item_id = item AND position = at;
  IF last_alt IS NULL THEN
    RAISE EXCEPTION 'item % has no step %', quote_literal(item), at
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  FOREACH candidate IN ARRAY texts LOOP
    IF candidate IS NULL OR btrim(candidate) = '' THEN
      RAISE EXCEPTION 'alternatives must be non-empty strings' USING ERRCODE = 'check_violation';
    END IF;
    SELECT min(alt) INTO found FROM steps
      WHERE item_id = item AND position = at AND text = candidate;
    IF found IS NULL THEN
      last_alt := last_alt + 1;
      found := last_alt;
      INSERT INTO steps (item_id, position, alt, text, chosen)
        VALUES (item, at, found, candidate, false);
    END IF;
    indexes := indexes || found;
  END LOOP;
  RETURN indexes;
END $$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT quote_ident(current_schema())").scalar_one()
    op.execute(ADD_ITEMS_SQL.format(schema=schema))
    op.execute(ADD_ALTERNATIVES_SQL.format(schema=schema))
    # Functions are open to everyone by default; db init grants these to annotators.
    op.execute(f"REVOKE ALL ON FUNCTION {ADD_ITEMS} FROM PUBLIC")
    op.execute(f"REVOKE ALL ON FUNCTION {ADD_ALTERNATIVES} FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS {ADD_ITEMS}")
    op.execute(f"DROP FUNCTION IF EXISTS {ADD_ALTERNATIVES}")
