"""Direct commits: the server extension commits on a context the kernel signed, like the kernel.

The kernel's side (the ``_direct`` trait and the ``committed`` message) runs on a widget without
a browser; the server's side is ``DirectCommits``, given the messages the page sends. The
websocket around it is tested against a real Jupyter server in tests/browser/test_direct.py.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

import labwidget as lw
import labwidget.widgets._item as item_module
import labwidget.widgets.pair as pair_module
from labwidget import _signing
from labwidget._signing import sign, signed_context
from labwidget.server._direct import DirectCommits
from tests.messages import deliver, methods, replies

KEY = b"the kernel's session key"
OTHER_KEY = b"another kernel's key"
STEPS = ["3*4=12", "2+12=14", "So 14."]
SUGGESTIONS = [{"value": 1, "confidence": 0.9, "source": "model:prm"}, None, None]


@pytest.fixture
def sqlite_store(tmp_path: Path) -> lw.Store:
    with lw.Store(tmp_path / "labels.db", annotator="ada") as store:
        yield store


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widgets are made as inside a kernel whose session key is ``KEY``."""
    monkeypatch.setattr(item_module, "kernel_key", lambda: KEY)
    monkeypatch.setattr(pair_module, "kernel_key", lambda: KEY)


def labeler(store: lw.Store, **kwargs: Any) -> lw.StepLabeler:
    return lw.StepLabeler(
        prompt="What is 2+3*4?", steps=STEPS, store=store, suggestions=SUGGESTIONS, **kwargs
    )


def event(widget: lw.StepLabeler, step: int | None, **fields: Any) -> dict[str, Any]:
    """A label event as the page sends it."""
    return {
        "kind": "label",
        "id": str(uuid.uuid4()),
        "item": widget.item_id,
        "step": step,
        "alt": 0,
        "label": "rating",
        "t_client": 1.7e12,
        "duration_ms": 1200,
        **fields,
    }


def ready(commits: DirectCommits, widget: lw.StepLabeler) -> str:
    """Hands the server the widget's context, as the page does; returns its signature."""
    reply = commits.handle({"kind": "context", **widget._direct}, [OTHER_KEY, KEY])
    assert reply == {"kind": "ready", "signature": widget._direct["signature"]}
    return str(widget._direct["signature"])


def stored(path: Path) -> list[tuple[Any, ...]]:
    """What another connection reads from the file: committed means on disk."""
    with sqlite3.connect(path) as con:
        return con.execute(
            "SELECT event_id, step, kind, value, text, annotator, duration_ms, meta "
            "FROM label_events ORDER BY rowid"
        ).fetchall()


@pytest.mark.usefixtures("signed")
def test_the_kernel_signs_what_the_server_may_commit(sqlite_store: lw.Store) -> None:
    widget = labeler(sqlite_store)
    context = json.loads(widget._direct["context"])
    assert context == {
        "protocol": _signing.PROTOCOL,
        "version": lw.__version__,
        "store": str(Path(sqlite_store.url.database or "").resolve()),
        "annotator": "ada",
        "widget": "steps",
        "item": widget.item_id,
        "steps": 3,
        "suggestions": SUGGESTIONS,
    }
    assert widget._direct["signature"] == sign(widget._direct["context"], KEY)


@pytest.mark.usefixtures("signed")
def test_a_direct_label_is_on_disk_when_acked_and_the_kernel_shows_it_when_told(
    sqlite_store: lw.Store,
) -> None:
    widget = labeler(sqlite_store)
    commits = DirectCommits()
    signature = ready(commits, widget)
    label = event(widget, 1, value=-1)

    assert commits.handle({**label, "context": signature}, []) == {"kind": "ack", "id": label["id"]}
    path = Path(sqlite_store.url.database or "")
    assert stored(path) == [(label["id"], 1, "rating", -1, None, "ada", 1200, "null")]
    assert widget.step_labels == [None, None, None]  # the kernel has not heard yet

    deliver(widget, {"kind": "committed", "id": "c1", "items": [widget.item_id], "labels": 1})
    assert widget.step_labels == [None, -1, None]
    assert widget.saved["ratings"] == [[None], [-1], [None]]
    assert replies(widget) == [{"kind": "ack", "id": "c1"}]
    # The page keeps its copy of a direct label until this ack, so the traits go before it.
    assert methods(widget)[-2:] == ["update", "custom"]
    assert len(stored(path)) == 1  # telling the kernel writes nothing
    commits.close()


@pytest.mark.usefixtures("signed")
def test_a_resent_label_is_stored_once_whichever_path_it_takes(sqlite_store: lw.Store) -> None:
    widget = labeler(sqlite_store)
    commits = DirectCommits()
    signature = ready(commits, widget)
    label = event(widget, 0, value=1)
    commits.handle({**label, "context": signature}, [])
    commits.handle({**label, "context": signature}, [])
    deliver(widget, label)  # the page gave up on the socket and resent through the kernel
    assert [row[0] for row in stored(Path(sqlite_store.url.database or ""))] == [label["id"]]
    commits.close()


# Events the kernel and the server must both accept, or both refuse with the same message.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("rating", {"step": 2, "value": 0}),
    ("flag", {"step": 1, "label": "flag", "value": 1}),
    ("note", {"step": 0, "label": "note", "text": "why 12?"}),
    ("finish", {"step": None, "label": "finish", "text": "found_error"}),
    ("accepted suggestion", {"step": 0, "value": 1, "accepts_suggestion": True}),
    ("no such suggestion", {"step": 1, "value": 1, "accepts_suggestion": True}),
    ("rating of None", {"step": 0, "value": None}),
    ("rating of 7", {"step": 0, "value": 7}),
    ("step out of range", {"step": 3, "value": 1}),
    ("another item", {"step": 0, "value": 1, "item": "not-this-one"}),
    ("unknown label kind", {"step": 0, "label": "vibe", "value": 1}),
]


def kernel_and_server(tmp_path: Path, make: Any, message: Any, rows: Any) -> list[tuple[Any, Any]]:
    """The reply and the stored ``rows(store)`` when ``message(widget)`` goes through the kernel,
    then when it goes to the server, each on a fresh store with a fresh ``make(store)`` widget."""
    outcomes = []
    for path in ("kernel", "server"):
        with lw.Store(tmp_path / f"{path}.db", annotator="ada") as store:
            widget = make(store)
            sent = message(widget)
            if path == "kernel":
                deliver(widget, sent)
                reply = replies(widget)[-1]
            else:
                commits = DirectCommits()
                registered = commits.handle({"kind": "context", **widget._direct}, [KEY])
                reply = commits.handle({**sent, "context": registered["signature"]}, [])
                commits.close()
            outcomes.append((reply, rows(store)))
    return outcomes


@pytest.mark.usefixtures("signed")
@pytest.mark.parametrize(("name", "fields"), CASES, ids=[name for name, _ in CASES])
def test_the_server_accepts_and_refuses_exactly_what_the_kernel_does(
    tmp_path: Path, name: str, fields: dict[str, Any]
) -> None:
    kernel, server = kernel_and_server(
        tmp_path,
        labeler,
        lambda widget: {**event(widget, 0), **fields, "id": f"event-{name}"},
        lambda store: stored(Path(store.url.database or "")),
    )
    assert kernel == server


@pytest.mark.usefixtures("signed")
def test_a_store_refusal_reads_the_same_on_both_routes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*_: Any, **__: Any) -> bool:
        raise lw.StoreError("nothing was written: database is locked")

    monkeypatch.setattr(lw.Store, "record", locked)
    kernel, server = kernel_and_server(
        tmp_path,
        labeler,
        lambda widget: {**event(widget, 0, value=1), "id": "locked"},
        lambda store: stored(Path(store.url.database or "")),
    )
    assert kernel == server
    reply = {
        "kind": "error",
        "id": "locked",
        "message": "not saved: nothing was written: database is locked",
    }
    assert kernel == (reply, [])


@pytest.mark.usefixtures("signed")
def test_an_undo_goes_direct_too(sqlite_store: lw.Store) -> None:
    widget = labeler(sqlite_store)
    commits = DirectCommits()
    signature = ready(commits, widget)
    for value in (1, -1):
        commits.handle({**event(widget, 0, value=value), "context": signature}, [])
    undo = {**event(widget, 0), "kind": "undo", "context": signature}
    assert commits.handle(undo, [])["kind"] == "ack"
    assert sqlite_store.step_ratings(widget.item_id) == [1, None, None]
    commits.close()


@pytest.mark.usefixtures("signed")
@pytest.mark.parametrize(
    ("tamper", "refusal"),
    [
        (lambda m: {**m, "signature": sign(m["context"], OTHER_KEY + b"!")}, "no kernel"),
        (lambda m: {**m, "context": m["context"].replace('"ada"', '"mallory"')}, "no kernel"),
        (lambda m: {**m, "signature": None}, "its text and its signature"),
    ],
    ids=["unknown key", "edited context", "no signature"],
)
def test_a_context_no_running_kernel_signed_is_refused(
    sqlite_store: lw.Store, tamper: Any, refusal: str
) -> None:
    widget = labeler(sqlite_store)
    commits = DirectCommits()
    reply = commits.handle(tamper({"kind": "context", **widget._direct}), [KEY])
    assert reply["kind"] == "refused"
    assert refusal in reply["message"]
    label = {**event(widget, 0, value=1), "context": widget._direct["signature"]}
    assert commits.handle(label, [KEY])["kind"] == "error"  # never registered
    assert stored(Path(sqlite_store.url.database or "")) == []


def test_a_context_from_another_labwidget_version_is_refused(sqlite_store: lw.Store) -> None:
    fields = {"widget": "steps", "item": "item", "steps": 1, "suggestions": [None]}
    context = json.loads(signed_context(sqlite_store, fields, KEY)["context"])
    text = json.dumps({**context, "version": "0.0.1"})
    reply = DirectCommits().handle(
        {"kind": "context", "context": text, "signature": sign(text, KEY)}, [KEY]
    )
    assert reply["kind"] == "refused"
    assert "0.0.1" in reply["message"]


@pytest.mark.usefixtures("signed")
def test_a_removed_store_file_is_an_error_never_a_new_empty_store(
    sqlite_store: lw.Store,
) -> None:
    widget = labeler(sqlite_store)
    commits = DirectCommits()
    signature = ready(commits, widget)
    path = Path(sqlite_store.url.database or "")
    sqlite_store.close()
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)

    reply = commits.handle({**event(widget, 0, value=1), "context": signature}, [])
    assert reply["kind"] == "error"
    assert "does not exist" in reply["message"]
    assert not path.exists()
    commits.close()


@pytest.mark.usefixtures("signed")
def test_a_replaced_store_file_is_opened_again(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    with lw.Store(path, annotator="ada") as store:
        widget = labeler(store)
    commits = DirectCommits()
    signature = ready(commits, widget)
    path.rename(tmp_path / "old.db")
    with lw.Store(path, annotator="ada") as store:
        labeler(store)  # the same item again, in a new file
    label = event(widget, 0, value=1)
    assert commits.handle({**label, "context": signature}, [])["kind"] == "ack"
    assert [row[0] for row in stored(path)] == [label["id"]]
    commits.close()


def test_no_context_without_a_kernel_or_for_a_shared_store(
    store: lw.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _signing.kernel_key() is None  # pytest is no kernel
    assert labeler(store)._direct == {}
    monkeypatch.setattr(item_module, "kernel_key", lambda: KEY)
    # PostgreSQL: its URL may carry a password, and traits are saved in the notebook.
    expected = {} if store.backend == "postgresql" else {"context", "signature"}
    assert set(labeler(store)._direct) == set(expected)


@pytest.mark.usefixtures("signed")
def test_a_queue_counts_direct_labels_and_items_the_page_has_moved_on_from(
    sqlite_store: lw.Store,
) -> None:
    first = sqlite_store.add_item("Q1", ["a", "b"])
    second = sqlite_store.add_item("Q2", ["c"])
    widget = lw.StepLabeler(store=sqlite_store, queue=[first, second])
    commits = DirectCommits()
    signature = ready(commits, widget)
    for step in (0, 1):
        commits.handle({**event(widget, step, value=1), "context": signature}, [])
    deliver(widget, {"kind": "goto", "id": "g", "position": 1})
    assert widget.progress["done"] == 0  # the kernel has not heard of the labels yet

    deliver(widget, {"kind": "committed", "id": "c", "items": [first], "labels": 2})
    assert widget.progress["done"] == 1
    assert widget.progress["session_labels"] == 2
    assert widget.item_id == second
    commits.close()


def test_a_committed_message_must_say_what_was_committed(sqlite_store: lw.Store) -> None:
    widget = labeler(sqlite_store)
    deliver(widget, {"kind": "committed", "id": "c", "items": "all", "labels": 1})
    assert replies(widget)[-1]["kind"] == "error"


def preference(widget: lw.PairLabeler, **fields: Any) -> dict[str, Any]:
    """A preference event as js/pair.ts sends it."""
    return {
        "kind": "preference",
        "id": str(uuid.uuid4()),
        "comparison": widget.comparison_id,
        "preference": "b",
        "strength": 2,
        "t_client": 1.7e12,
        "duration_ms": 900,
        **fields,
    }


def pair(store: lw.Store) -> lw.PairLabeler:
    return lw.compare("2+3*4 = 20", "2+3*4 = 14", prompt="What is 2+3*4?", store=store)


@pytest.mark.usefixtures("signed")
def test_a_preference_goes_direct_and_the_kernel_shows_it_when_told(
    sqlite_store: lw.Store,
) -> None:
    widget = pair(sqlite_store)
    assert json.loads(widget._direct["context"])["comparison"] == widget.comparison_id
    commits = DirectCommits()
    signature = commits.handle({"kind": "context", **widget._direct}, [KEY])["signature"]
    event = preference(widget)

    assert commits.handle({**event, "context": signature}, []) == {"kind": "ack", "id": event["id"]}
    rows = [(r["event_id"], r["preference"], r["strength"]) for r in sqlite_store.preferences()]
    assert rows == [(event["id"], "b", 2.0)]
    assert widget.preference is None

    deliver(widget, {"kind": "committed", "id": "c"})
    assert (widget.preference, widget.strength) == ("b", 2.0)
    assert methods(widget)[-2:] == ["update", "custom"]
    commits.close()


PAIR_CASES: list[tuple[str, dict[str, Any]]] = [
    ("tie", {"preference": "tie", "strength": None}),
    ("much better", {"preference": "a", "strength": 2}),
    ("strength 5", {"strength": 5}),
    ("NaN duration", {"duration_ms": float("nan")}),
    ("another comparison", {"comparison": "someone-else"}),
    ("no preference", {"preference": "c"}),
]


@pytest.mark.usefixtures("signed")
@pytest.mark.parametrize(("name", "fields"), PAIR_CASES, ids=[name for name, _ in PAIR_CASES])
def test_the_server_takes_exactly_the_preferences_the_kernel_takes(
    tmp_path: Path, name: str, fields: dict[str, Any]
) -> None:
    kernel, server = kernel_and_server(
        tmp_path,
        pair,
        lambda widget: {**preference(widget), **fields, "id": f"event-{name}"},
        lambda store: [
            (r["event_id"], r["preference"], r["strength"]) for r in store.preferences()
        ],
    )
    assert kernel == server


@pytest.mark.usefixtures("signed")
def test_a_context_commits_only_its_own_widgets_events(sqlite_store: lw.Store) -> None:
    steps, comparison = labeler(sqlite_store), pair(sqlite_store)
    commits = DirectCommits()
    steps_signature = ready(commits, steps)
    pair_signature = commits.handle({"kind": "context", **comparison._direct}, [KEY])["signature"]
    wrong = [
        {**preference(comparison), "context": steps_signature},
        {**event(steps, 0, value=1), "context": pair_signature},
    ]
    for message in wrong:
        assert commits.handle(message, [])["kind"] == "error"
    assert sqlite_store.preferences() == []
    assert stored(Path(sqlite_store.url.database or "")) == []
    commits.close()


def adjudicator(store: lw.Store) -> lw.StepLabeler:
    """An adjudicating labeler over one item whose step 1 x and y rate apart."""
    item = store.add_item("q", ["a", "b", "c"])
    for who, values in (("x", [1, 1]), ("y", [1, -1])):
        for step, value in enumerate(values):
            store.record_label(item=item, step=step, value=value, annotator=who)
    return lw.StepLabeler(store=store, adjudicate=True)


ADJUDICATIONS = [
    ("a disputed step", {"step": 1, "value": 1}),
    ("an undisputed step", {"step": 0, "value": 1}),
    ("a verdict of 7", {"step": 1, "value": 7}),
]


@pytest.mark.usefixtures("signed")
@pytest.mark.parametrize(("name", "fields"), ADJUDICATIONS, ids=[n for n, _ in ADJUDICATIONS])
def test_the_server_takes_exactly_the_adjudications_the_kernel_takes(
    tmp_path: Path, name: str, fields: dict[str, Any]
) -> None:
    kernel, server = kernel_and_server(
        tmp_path,
        adjudicator,
        lambda widget: {**event(widget, 0), "label": "adjudication", **fields, "id": name},
        lambda store: stored(Path(store.url.database or ""))[4:],
    )
    assert kernel == server
    if name == "a disputed step":
        assert kernel[0] == {"kind": "ack", "id": name}
        assert kernel[1] == [
            (name, 1, "adjudication", 1, None, "ada", 1200, '{"labels": {"x": 1, "y": -1}}')
        ]
    else:
        assert kernel[0]["kind"] == "error"
