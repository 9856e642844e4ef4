"""A team's shared PostgreSQL store attacked by its own annotators, as real LOGIN roles.

Each attack goes around the store, straight to SQL as a member of ``labwidget_annotator``, and
must be refused; afterwards every reader (items, a StepLabeler over the queue, the TRL export)
still works for the admin and for both annotators.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

import labwidget as lw
from labwidget import cli
from labwidget.store import content_id, init_database
from labwidget.store._postgres import ADD_ALTERNATIVES, ADD_ITEMS

STEPS = ["Step 1: 6 * 7 = 42", "Step 2: so x = 42", "Step 3: answer 42"]


@dataclass
class Team:
    """An initialised database, two annotator roles and an item of the first one's."""

    admin: str  # store URL as the admin (a superuser here)
    alice: str  # store URL as alice
    bob: str
    alice_role: str
    bob_role: str
    item: str  # alice's item, with three steps and alice's ratings on two of them
    tmp: Path

    def raw(self, url: str) -> psycopg.Connection[Any]:
        """A plain psycopg connection, as an annotator with psql would have."""
        return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))

    def attack(self, url: str, statement: str, parameters: Any = None) -> psycopg.Error:
        """Run ``statement`` as that role; it must be refused, and the refusal is returned."""
        with self.raw(url) as connection, pytest.raises(psycopg.Error) as refused:
            connection.execute(statement, parameters)
        return refused.value

    def assert_readers_work(self, steps: list[str] = STEPS) -> None:
        """Every reader works for everyone, and alice's item still has exactly ``steps``."""
        for who, url in (("admin", self.admin), ("alice", self.alice), ("bob", self.bob)):
            with lw.Store(url) as store:
                (item,) = [i for i in store.items() if i["id"] == self.item]
                assert item["steps"] == steps, who
                assert item["alternatives"] == [[s] for s in steps], who
                labeler = lw.StepLabeler(store=store, queue=[self.item])
                assert labeler.steps == steps
                out = self.tmp / f"{who}.jsonl"
                assert lw.export(store, out, format="trl-stepwise") == 1


@pytest.fixture
def team(pg_url: str, tmp_path: Path) -> Iterator[Team]:
    init_database(pg_url)
    admin = make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    names = {who: f"lw_{who}_{uuid.uuid4().hex[:8]}" for who in ("alice", "bob")}
    with psycopg.connect(admin, autocommit=True) as connection:
        for name in names.values():
            connection.execute(f'CREATE ROLE "{name}" LOGIN IN ROLE labwidget_annotator')
        try:
            urls = {
                who: make_url(pg_url).set(username=name).render_as_string(False)
                for who, name in names.items()
            }
            with lw.Store(urls["alice"]) as alice:
                item = alice.add_item("What is 6 * 7?", STEPS)
                alice.record_label(item=item, step=0, value=1)
                alice.record_label(item=item, step=1, value=1)
            yield Team(
                admin=pg_url,
                alice=urls["alice"],
                bob=urls["bob"],
                alice_role=names["alice"],
                bob_role=names["bob"],
                item=item,
                tmp=tmp_path,
            )
        finally:
            for name in names.values():
                connection.execute(f'DROP OWNED BY "{name}"')
                connection.execute(f'DROP ROLE "{name}"')


@pytest.mark.parametrize(
    ("position", "alt"),
    [(3, 0), (9, 0), (1, 1), (1, 5)],
    ids=["next-step", "position-9", "alternative", "alternative-5"],
)
def test_an_annotator_cannot_add_a_step_to_an_item(team: Team, position: int, alt: int) -> None:
    refused = team.attack(
        team.bob,
        "INSERT INTO steps (item_id, position, alt, text, chosen) VALUES (%s, %s, %s, 'x', true)",
        (team.item, position, alt),
    )
    assert isinstance(refused, psycopg.errors.InsufficientPrivilege)
    team.assert_readers_work()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE items SET prompt = 'rewritten'",
        "DELETE FROM items",
        "UPDATE steps SET text = 'rewritten'",
        "DELETE FROM steps",
        "TRUNCATE steps CASCADE",
        "INSERT INTO items (id, dataset, prompt, meta, created_at) "
        "VALUES ('mine', 'default', 'q', '{}', now())",
        "UPDATE label_events SET value = -1",
        "DELETE FROM label_events",
    ],
)
def test_an_annotator_cannot_change_or_delete_what_is_stored(team: Team, statement: str) -> None:
    refused = team.attack(team.bob, statement)
    assert "permission denied" in str(refused) or "row-level security" in str(refused)
    team.assert_readers_work()
    with lw.Store(team.admin) as store:
        assert [(e["step"], e["value"]) for e in store.labels()] == [(0, 1), (1, 1)]


def test_an_annotator_cannot_number_a_label(team: Team) -> None:
    refused = team.attack(
        team.bob,
        "INSERT INTO label_events (seq, event_id, item_id, step, alt, kind, value, annotator, "
        "source, created_at) VALUES (1000000, 'ahead', %s, 0, 0, 'rating', 1, current_user, "
        "'human', now())",
        (team.item,),
    )
    assert isinstance(refused, psycopg.errors.InsufficientPrivilege)
    # Numbering stays the database's: later labels, by anyone, are not refused as duplicates.
    for url in (team.alice, team.bob, team.admin):
        with lw.Store(url, annotator=None) as store:
            assert store.record_label(item=team.item, step=2, value=-1)
    team.assert_readers_work()


def test_an_annotator_cannot_label_as_another(team: Team) -> None:
    refused = team.attack(
        team.bob,
        "INSERT INTO label_events (event_id, item_id, step, alt, kind, value, annotator, source, "
        "created_at) VALUES ('forged', %s, 2, 0, 'rating', -1, %s, 'human', now())",
        (team.item, team.alice_role),
    )
    assert "row-level security" in str(refused)
    with lw.Store(team.alice) as alice, lw.Store(team.bob) as bob:
        with pytest.raises(lw.LabelError, match="only your own labels"):
            bob.record_label(item=team.item, step=2, value=-1, annotator=team.alice_role)

        def import_as_alice() -> None:
            with bob.batch() as batch:
                for n in range(1_500):  # large enough to take the COPY path
                    batch.record(
                        "rating", item=team.item, step=0, value=1, event_id=f"e{n}",
                        annotator=team.alice_role,
                    )  # fmt: skip

        with pytest.raises(lw.LabelError, match="only your own labels"):
            import_as_alice()
        pair = bob.add_comparison("q", "a", "b")
        with pytest.raises(lw.LabelError, match="only your own labels"):
            bob.record_preference(pair, "a", annotator=team.alice_role)
        assert [e["annotator"] for e in alice.events()] == [team.alice_role] * 2
    team.assert_readers_work()


def _add_items_call(
    item_id: str, prompt: str, positions: list[int], alts: list[int], texts: list[str]
) -> tuple[list[Any], ...]:
    """The arguments of labwidget_add_items for one item, as an annotator would hand-make them."""
    return (
        [item_id], ["default"], [prompt], ["{}"], [None], ["2026-01-01T00:00:00+00:00"],
        [item_id] * len(texts), positions, alts, texts,
    )  # fmt: skip


def _forged_call(forgery: str, item: str) -> tuple[list[Any], ...]:
    """A hand-made call of labwidget_add_items aimed at alice's ``item`` or at the numbering."""
    if forgery == "grow-an-item":  # alice's item again, with a fourth step
        return _add_items_call(item, "What is 6 * 7?", [0, 1, 2, 3], [0] * 4, [*STEPS, "Step 4: x"])
    if forgery == "steps-for-another":  # a new item, with a step for alice's riding along
        call = _add_items_call(content_id("q", []), "q", [], [], [])
        return (*call[:6], [item], [9], [0], ["x"])
    if forgery == "gap":
        return _add_items_call(content_id("q", ["a", "b"]), "q", [0, 9], [0, 0], ["a", "b"])
    if forgery == "no-alternative-0":
        return _add_items_call(content_id("q", ["a"]), "q", [0], [1], ["a"])
    assert forgery == "plant-an-id"  # other content under the id an item will have one day
    return _add_items_call(content_id("q", ["right"]), "q", [0], [0], ["wrong"])


@pytest.mark.parametrize(
    ("forgery", "problem"),
    [
        ("grow-an-item", "is not the content hash"),
        ("steps-for-another", "is not among the items added with them"),
        ("gap", "do not count up from 0"),
        ("no-alternative-0", "do not count up from 0"),
        ("plant-an-id", "is not the content hash"),
    ],
)
def test_the_item_function_refuses_what_the_store_never_writes(
    team: Team, forgery: str, problem: str
) -> None:
    refused = team.attack(team.bob, ADD_ITEMS, _forged_call(forgery, team.item))
    assert isinstance(refused, psycopg.errors.CheckViolation)
    assert problem in str(refused)
    team.assert_readers_work()
    with lw.Store(team.admin) as store:
        assert len(store.items()) == 1


def test_adding_an_item_again_adds_no_steps(team: Team) -> None:
    with team.raw(team.bob) as connection:
        again = _add_items_call(team.item, "What is 6 * 7?", [0, 1, 2], [0, 0, 0], STEPS)
        assert connection.execute(ADD_ITEMS, again).fetchone() == (0,)
    team.assert_readers_work()


def test_annotators_add_items_alternatives_and_bulk_labels_through_the_store(team: Team) -> None:
    with lw.Store(team.bob) as bob:
        with bob.batch() as batch:
            ids = [batch.add_item(f"q{n}", [f"a{n}", [f"b{n}", f"c{n}"]]) for n in range(1_500)]
            for n, item in enumerate(ids):
                batch.record("rating", item=item, step=1, alt=n % 2, value=1)
        assert len(bob.items()) == 1_501
        assert len(bob.events(annotator=team.bob_role)) == 1_500
        # StepLabeler's `g` adds alternatives to whatever item is shown, alice's included.
        assert bob.add_alternatives(team.item, 2, ["Step 3: 42", STEPS[2]]) == [1, 0]
        assert bob.item(team.item)["alternatives"][2] == [STEPS[2], "Step 3: 42"]
        with pytest.raises(lw.LabelError, match="has no step 7"):
            bob.add_alternatives(team.item, 7, ["x"])
        pair = bob.add_comparison("q", "a", "b")
        assert bob.record_preference(pair, "b")
    with lw.Store(team.admin) as admin:
        assert admin.add_item("admin's", ["x"]) in {i["id"] for i in admin.items()}
        assert len(admin.comparisons()) == 1


def test_an_annotator_cannot_plant_a_comparison_under_another_id(team: Team) -> None:
    refused = team.attack(
        team.bob,
        "INSERT INTO comparisons (id, dataset, prompt, answer_a, answer_b, meta, created_at) "
        "VALUES (%s, 'default', 'q', 'wrong', 'b', '{}', now())",
        (content_id("comparison", "q", "a", "b"),),
    )
    assert "row-level security" in str(refused)


def test_item_ids_hash_the_same_in_python_and_postgresql(team: Team) -> None:
    # Every character JSON escapes, and some it does not; the function recomputes each id.
    tricky = ["".join(map(chr, range(1, 128))), 'quote " back \\ slash', "\u2028\u2029\ufeff"]
    tricky += ["émoji 😀 中文", "\x7f\x80\x9f", "tab\tnew\nline\r", ""]
    with lw.Store(team.bob) as bob:
        item = bob.add_item(tricky[0], [tricky[1:4], *tricky[4:], "plain"])
        assert bob.item(item)["steps"] == [tricky[1], *tricky[4:], "plain"]


def test_a_new_table_is_read_only_for_annotators(team: Team) -> None:
    # As a later migration (token scores, say) would add one, before and after db init re-runs.
    with team.raw(team.admin) as connection:
        connection.execute(
            "CREATE TABLE later (item_id varchar(64) REFERENCES items(id), x float8)"
        )
    for _ in range(2):
        with team.raw(team.bob) as connection:
            assert connection.execute("SELECT count(*) FROM later").fetchone() == (0,)
        refused = team.attack(team.bob, "INSERT INTO later VALUES (%s, 1.0)", (team.item,))
        assert isinstance(refused, psycopg.errors.InsufficientPrivilege)
        init_database(team.admin)


OLD_RULES = """
GRANT INSERT ON items, steps, comparisons, label_events, preference_events TO labwidget_annotator;
DROP POLICY IF EXISTS insert_any ON items;
CREATE POLICY insert_any ON items FOR INSERT WITH CHECK (true);
"""


@pytest.mark.parametrize("command", ["init", "upgrade"])
def test_re_running_db_init_or_upgrade_brings_old_rules_up_to_date(
    team: Team, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with team.raw(team.admin) as connection:
        connection.execute(OLD_RULES)
    with team.raw(team.bob) as connection:  # what labwidget before 0005 let annotators do
        connection.execute("INSERT INTO steps VALUES (%s, 9, 0, 'x', true)", (team.item,))
        connection.rollback()
    assert cli.main(["db", command, team.admin]) == 0
    assert "annotator" in capsys.readouterr().out  # what the command says it did
    refused = team.attack(team.bob, "INSERT INTO steps VALUES (%s, 9, 0, 'x', true)", (team.item,))
    assert isinstance(refused, psycopg.errors.InsufficientPrivilege)
    team.assert_readers_work()


def test_db_upgrade_sets_up_no_rules_where_there_were_none(pg_url: str) -> None:
    assert cli.main(["db", "upgrade", pg_url]) == 0
    engine = sa.create_engine(pg_url)
    with engine.connect() as connection:
        granted = connection.exec_driver_sql(
            "SELECT count(*) FROM information_schema.table_privileges "
            "WHERE grantee = 'labwidget_annotator' AND table_catalog = current_database()"
        ).scalar_one()
    engine.dispose()
    assert granted == 0


def test_the_annotator_is_the_database_role(team: Team) -> None:
    with lw.Store(team.alice) as store:
        assert store.annotator == team.alice_role
        assert {e["annotator"] for e in store.labels()} == {team.alice_role}


def test_an_annotator_cannot_claim_for_another(team: Team) -> None:
    with lw.Store(team.bob) as bob:
        unlabeled = bob.add_item("q", ["a"])
        with pytest.raises(lw.LabelError, match="only your own"):
            bob.claim(2, annotator=team.alice_role)
        assert bob.claim(2) == [unlabeled]  # alice labeled the other: overlap 1 is taken


def test_alternatives_added_around_the_store_are_numbered_by_the_database(team: Team) -> None:
    with team.raw(team.bob) as connection:
        found = connection.execute(ADD_ALTERNATIVES, (team.item, 0, ["other", STEPS[0]]))
        assert found.fetchone() == ([1, 0],)
    with lw.Store(team.alice) as alice:
        assert alice.item(team.item)["alternatives"][0] == [STEPS[0], "other"]
