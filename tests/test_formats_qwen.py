"""Qwen PRM rows: the model card's chat layout with <extra_0> after each step, out and back in."""

from __future__ import annotations

from pathlib import Path

import pytest

import labwidget as lw
from labwidget.formats import FormatError, export, export_qwen, import_qwen
from labwidget.formats.qwen import SYSTEM
from tests.formats_support import A1, A2, B1, B2, C1, Q1, Q2, Q3, fill, items, lines


@pytest.fixture
def small(tmp_path: Path) -> lw.Store:
    store = lw.Store(tmp_path / "small.db", annotator="tester")
    fill(store)
    return store


def chat(question: str, *steps: str, system: str | None = SYSTEM) -> list[dict[str, str]]:
    head = [] if system is None else [{"role": "system", "content": system}]
    answer = "".join(f"{step}<extra_0>" for step in steps)
    return [*head, {"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_rows_follow_the_model_card_with_neutral_as_positive(small: lw.Store) -> None:
    assert SYSTEM == "Please reason step by step, and put your final answer within \\boxed{}."
    assert list(export_qwen(small)) == [
        {"messages": chat(Q1, A1, A2), "labels": [True, True]},
        {"messages": chat(Q2, B1, B2), "labels": [True, False]},
        {"messages": chat(Q3, C1), "labels": [False]},
    ]


def test_neutral_policies_and_the_system_turn(small: lw.Store) -> None:
    assert [row["labels"] for row in export_qwen(small, neutral="false")][1] == [False, False]
    assert len(list(export_qwen(small, neutral="drop"))) == 2
    assert next(export_qwen(small, system=None))["messages"] == chat(Q1, A1, A2, system=None)


def test_round_trip(store: lw.Store, tmp_path: Path) -> None:
    fill(store, neutral_step=False)
    out = tmp_path / "qwen.jsonl"
    assert export(store, out, format="qwen-prm") == 3
    with lw.Store(tmp_path / "back.db") as back:
        assert import_qwen(back, out, dataset="math") == {"lines": 3, "items": 3, "events": 5}
        assert [(p, s) for p, s, _ in items(back)] == [(p, s) for p, s, _ in items(store)]
        again = tmp_path / "again.jsonl"
        export(back, again, format="qwen-prm")
    assert lines(again) == lines(out)


def test_only_jsonl(small: lw.Store, tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="the qwen-prm format is written as JSONL only"):
        export(small, tmp_path / "q.parquet", format="qwen-prm")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"labels": [true]}', "x.jsonl:1: messages: missing"),
        ('{"messages": [{"role": "user", "content": "q"}], "labels": []}', "roles"),
        (
            '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", '
            '"content": "a"}], "labels": [true]}',
            "does not end with <extra_0>",
        ),
        (
            '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", '
            '"content": "a<extra_0>"}], "labels": [1]}',
            "labels: expected 1 true/false labels",
        ),
    ],
)
def test_bad_lines_are_refused_by_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with lw.Store(tmp_path / "s.db") as store, pytest.raises(FormatError, match=message):
        import_qwen(store, path)


def test_a_step_holding_the_token_is_refused(tmp_path: Path) -> None:
    with lw.Store(tmp_path / "s.db") as store:
        item = store.add_item("Why?", ["a<extra_0>b"])
        store.record_label(item=item, step=0, value=1)
        with pytest.raises(FormatError, match="step 0 contains '<extra_0>'"):
            list(export_qwen(store))
