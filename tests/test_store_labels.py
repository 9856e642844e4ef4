"""Every kind of label, alternatives, undo, comparisons and batches, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

import labwidget as lw


def current(store: lw.Store, kind: str) -> list[tuple[object, ...]]:
    return [
        (e["step"], e["alt"], e["value"], e["text"], e["score"]) for e in store.labels(kind=kind)
    ]


def test_steps_with_alternatives(store: lw.Store) -> None:
    item = store.add_item("q", ["s0", ["s1 a", "s1 b", "s1 c"], "s2"])
    (stored,) = store.items()
    assert stored["steps"] == ["s0", "s1 a", "s2"]
    assert stored["alternatives"] == [["s0"], ["s1 a", "s1 b", "s1 c"], ["s2"]]
    assert store.record_label(item=item, step=1, alt=2, value=-1)
    with pytest.raises(lw.LabelError, match="no step 1 \\(alternative 3\\)"):
        store.record_label(item=item, step=1, alt=3, value=1)
    assert current(store, "rating") == [(1, 2, -1, None, None)]


def test_each_kind_is_stored_and_read_back(store: lw.Store) -> None:
    item = store.add_item("q", ["a", ["b", "b2"]])
    store.flag_step(item=item, step=0)
    store.choose(item=item, step=1, alt=1)
    store.replace_step(item=item, step=1, text="b, written by hand")
    store.record("note", item=item, step=0, text="check the units")
    store.finish(item=item, reason="found_error", duration_ms=61_000)
    store.rate_item(item=item, score=4.5)
    assert current(store, "flag") == [(0, 0, 1, None, None)]
    assert current(store, "choice") == [(1, 0, 1, None, None)]
    assert current(store, "replacement") == [(1, 0, None, "b, written by hand", None)]
    assert current(store, "note") == [(0, 0, None, "check the units", None)]
    assert current(store, "finish") == [(None, 0, None, "found_error", None)]
    assert current(store, "score") == [(None, 0, None, None, 4.5)]
    assert [e["duration_ms"] for e in store.labels(kind="finish")] == [61_000]


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("flag", {"step": 0, "value": 2}, "a flag is 1"),
        ("choice", {"step": 1, "value": 5}, "no alternative 5"),
        ("choice", {"step": 1, "value": -1}, "alternative index >= 0"),
        ("replacement", {"step": 0, "text": "  "}, "needs non-empty text"),
        ("finish", {"text": "bored"}, "a finish reason is one of solution"),
        ("finish", {"step": 0, "text": "solution"}, "for the whole item"),
        ("score", {"score": float("nan")}, "a finite number"),
        ("rating", {"value": 1}, "needs a step number"),
        ("dance", {"step": 0}, "unknown label kind 'dance'"),
    ],
)
def test_an_event_that_does_not_fit_its_kind_is_refused(
    store: lw.Store, kind: str, fields: dict[str, object], message: str
) -> None:
    item = store.add_item("q", ["a", ["b", "b2"]])
    with pytest.raises(lw.LabelError, match=message):
        store.record(kind, item=item, **fields)  # type: ignore[arg-type]
    assert store.events() == []


def test_an_unknown_field_is_refused_as_by_a_signature(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    comparison = store.add_comparison("q", "a", "b")
    writes = [
        lambda: store.record("rating", item=item, step=0, value=1, colour="red"),
        lambda: store.record_label(item=item, step=0, value=1, colour="red"),
        lambda: store.finish(item=item, reason="solution", step=0, colour="red"),
        lambda: store.record_preference(comparison, "a", meta={"colour": "red"}),
    ]
    for write in writes:
        with pytest.raises(TypeError, match=r"unexpected keyword argument '(colour|meta)'"):
            write()  # type: ignore[call-arg]
    with store.batch() as batch, pytest.raises(TypeError, match="'colour'"):
        batch.record("rating", item=item, step=0, value=1, colour="red")  # type: ignore[call-arg]
    assert store.events() == []
    assert store.preferences() == []


@pytest.mark.parametrize("source", ["human", "model:prm-7b", "auto:math-shepherd"])
def test_label_sources(store: lw.Store, source: str) -> None:
    item = store.add_item("q", ["a"])
    store.record_label(item=item, step=0, value=1, source=source, confidence=0.75)
    (label,) = store.labels()
    assert (label["source"], label["confidence"]) == (source, 0.75)


@pytest.mark.parametrize("source", ["robot", "model:", "auto"])
def test_an_unknown_source_is_refused(store: lw.Store, source: str) -> None:
    item = store.add_item("q", ["a"])
    with pytest.raises(lw.LabelError, match="label source"):
        store.record_label(item=item, step=0, value=1, source=source)


def test_undo_walks_back_through_history_as_new_events(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    for value in (1, 0, -1):
        store.record_label(item=item, step=0, value=value)
    assert store.undo(item=item, step=0)["value"] == 0  # type: ignore[index]
    assert store.step_ratings(item) == [0]
    assert store.undo(item=item, step=0)["value"] == 1  # type: ignore[index]
    assert store.undo(item=item, step=0) is None
    assert store.step_ratings(item) == [None]
    assert store.labels() == []
    with pytest.raises(lw.LabelError, match="nothing to undo"):
        store.undo(item=item, step=0)
    assert [e["value"] for e in store.events()] == [1, 0, -1, 0, 1, None]
    store.record_label(item=item, step=0, value=-1)
    assert store.step_ratings(item) == [-1]


def test_undo_only_touches_its_own_annotator(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    store.record_label(item=item, step=0, value=1, annotator="ann")
    store.record_label(item=item, step=0, value=-1)
    store.undo(item=item, step=0)
    assert [(e["annotator"], e["value"]) for e in store.labels()] == [("ann", 1)]


def test_undo_a_flag(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    store.flag_step(item=item, step=0)
    store.undo(item=item, step=0, kind="flag")
    assert store.labels(kind="flag") == []


def test_comparisons_and_preferences(store: lw.Store) -> None:
    pair = store.add_comparison("2+2?", "4", "5", meta={"model": "m"})
    assert store.add_comparison("2+2?", "4", "5") == pair
    store.record_preference(pair, "b", annotator="x")
    store.record_preference(pair, "a", strength=2.0, annotator="x")
    store.record_preference(pair, "tie", annotator="y")
    got = [(p["preference"], p["strength"], p["annotator"]) for p in store.preferences()]
    assert got == [("a", 2.0, "x"), ("tie", None, "y")]
    (comparison,) = store.comparisons()
    assert (comparison["answer_a"], comparison["answer_b"], comparison["meta"]) == (
        "4",
        "5",
        {"model": "m"},
    )
    with pytest.raises(lw.LabelError, match="'a', 'b' or 'tie'"):
        store.record_preference(pair, "both")
    with pytest.raises(lw.LabelError, match="no comparison"):
        store.record_preference("missing", "a")


def test_a_failed_batch_leaves_nothing_behind(store: lw.Store) -> None:
    def import_with_a_bad_row() -> None:
        with store.batch() as batch:
            item = batch.add_item("q", ["a", "b"])
            batch.record("rating", item=item, step=0, value=1)
            batch.flush()
            batch.record("rating", item=item, step=5, value=1)

    with pytest.raises(lw.LabelError):
        import_with_a_bad_row()
    assert store.items() == []
    assert store.events() == []


def test_a_big_batch_goes_through_copy_on_postgresql_and_skips_known_ids(
    store: lw.Store,
) -> None:
    with store.batch() as batch:
        item = batch.add_item("q", [f"s{i}" for i in range(10)])
        for n in range(2_500):
            batch.record("rating", item=item, step=n % 10, value=n % 3 - 1, event_id=f"e{n}")
    with store.batch() as batch:
        for n in range(2_000, 3_000):
            batch.record("rating", item=item, step=n % 10, value=1, event_id=f"e{n}")
        batch.flush()
        assert batch.written == 500
    events = store.events()
    assert len(events) == 3_000
    assert [e["value"] for e in events[:4]] == [-1, 0, 1, -1]
    assert events[-1]["event_id"] == "e2999"


def test_iter_events_streams_everything_in_order(store: lw.Store) -> None:
    item = store.add_item("q", ["a"])
    with store.batch() as batch:
        for n in range(23):
            batch.record("rating", item=item, step=0, value=1, event_id=f"e{n:02}")
    streamed = [e["event_id"] for e in store.iter_events(chunk=5)]
    assert streamed == [f"e{n:02}" for n in range(23)]


def test_stats(store: lw.Store) -> None:
    item = store.add_item("q", ["a", "b"])
    store.record_label(item=item, step=0, value=1)
    store.record_label(item=item, step=1, value=1, annotator="other")
    assert store.stats() == {
        "items": 1,
        "steps": 2,
        "label_events": 2,
        "comparisons": 0,
        "preference_events": 0,
        "annotators": 2,
    }


def test_undecodable_model_output_is_kept_with_replacement_characters(store: lw.Store) -> None:
    item = store.add_item("bad \ud800 prompt", ["nul \x00 step", ["ok", "pair \ud83d\ude00"]])
    (stored,) = store.items()
    assert stored["id"] == item
    assert stored["prompt"] == "bad \ufffd prompt"
    assert stored["alternatives"] == [["nul \ufffd step"], ["ok", "pair \U0001f600"]]
    store.replace_step(item=item, step=0, text="fixed \x00")
    assert [e["text"] for e in store.labels(kind="replacement")] == ["fixed \ufffd"]


def test_alternatives_added_later_keep_the_item_and_its_labels(store: lw.Store) -> None:
    item = store.add_item("q", ["a", "b"])
    store.record_label(item=item, step=1, value=-1)
    assert store.add_alternatives(item, 1, ["b2", "b3", "b"]) == [1, 2, 0]
    assert store.add_alternatives(item, 1, ["b3", "b4"]) == [2, 3]
    assert store.item(item)["alternatives"] == [["a"], ["b", "b2", "b3", "b4"]]
    store.record_label(item=item, step=1, alt=3, value=1)
    assert [(e["alt"], e["value"]) for e in store.labels()] == [(0, -1), (3, 1)]
    with pytest.raises(lw.LabelError, match="no step 5"):
        store.add_alternatives(item, 5, ["x"])
    with pytest.raises(lw.LabelError, match="non-empty strings"):
        store.add_alternatives(item, 1, [""])
