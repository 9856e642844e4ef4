"""Token scores cross the comm as binary float32 buffers, and bad scores are refused."""

from __future__ import annotations

import json
import math
from typing import Any

import anywidget
import numpy as np
import pytest
import traitlets

from labwidget.widgets._buffers import (
    check_token_layout,
    pack_float32,
    pack_strings,
    unpack_float32,
    unpack_strings,
)


class ScoresWidget(anywidget.AnyWidget):
    _esm = "export default {}"
    token_scores = traitlets.Dict().tag(sync=True)


def test_packs_little_endian_float32_bytes() -> None:
    packed = pack_float32([1.0, -2.0, 0.5])
    assert packed == {
        "view": b"\x00\x00\x80\x3f\x00\x00\x00\xc0\x00\x00\x00\x3f",
        "dtype": "float32",
        "shape": [3],
    }


def test_numpy_and_torch_give_the_same_bytes_as_a_list() -> None:
    torch = pytest.importorskip("torch")
    expected = pack_float32([0.25, -1.5])
    assert pack_float32(np.array([0.25, -1.5], dtype=np.float64)) == expected
    assert pack_float32(np.array([0.25, -1.5], dtype=np.float32)) == expected
    assert pack_float32(torch.tensor([0.25, -1.5])) == expected
    assert pack_float32(torch.tensor([0.25, -1.5], dtype=torch.float16)) == expected


def test_numpy_scalars_and_ints_among_floats_give_the_same_bytes_as_floats() -> None:
    expected = pack_float32([0.0, 0.25, -1.5])
    assert pack_float32([0, 0.25, -1.5]) == expected
    assert pack_float32(list(np.array([0.0, 0.25, -1.5]))) == expected
    assert pack_float32(tuple(np.array([0.0, 0.25, -1.5], dtype=np.float32))) == expected


def test_float64_values_are_rounded_to_float32() -> None:
    assert unpack_float32(pack_float32([0.1])) == [float(np.float32(0.1))]


def test_empty_scores_pack_to_no_bytes() -> None:
    assert pack_float32([]) == {"view": b"", "dtype": "float32", "shape": [0]}
    assert unpack_float32(pack_float32(np.zeros(0, dtype=np.float32))) == []


@pytest.mark.parametrize(
    ("values", "index"),
    [
        ([0.0, math.nan, math.inf], 1),
        (np.array([-1.0, -2.0, -math.inf]), 2),
        ([-math.inf], 0),
    ],
)
def test_nan_and_inf_are_refused_naming_the_first_bad_index(values: Any, index: int) -> None:
    with pytest.raises(ValueError, match=rf"^score {index} is -?(nan|inf); scores must be finite"):
        pack_float32(values)


@pytest.mark.parametrize("values", [[0.0, 1e39], np.array([0.0, 1e39]), (0.0, 1e39)])
def test_a_value_too_large_for_float32_is_refused(values: Any) -> None:
    with pytest.raises(ValueError, match=r"score 1 is 1e\+39, too large for float32"):
        pack_float32(values)


@pytest.mark.parametrize("values", [[-1e39, 0.5, math.nan], np.array([-1e39, 0.5, math.nan])])
def test_nan_is_named_before_an_earlier_value_too_large_for_float32(values: Any) -> None:
    with pytest.raises(ValueError, match=r"^score 2 is nan; scores must be finite"):
        pack_float32(values)


def test_one_bad_score_among_100k_is_found() -> None:
    scores = [-0.5] * 100_000
    assert len(pack_float32(scores)["view"]) == 400_000
    scores[99_999] = math.inf
    with pytest.raises(ValueError, match=r"^score 99999 is inf; scores must be finite"):
        pack_float32(scores)


@pytest.mark.parametrize("values", [[[0.1, 0.2], [0.3, 0.4]], np.zeros((2, 3)), np.float32(1.0)])
def test_input_that_is_not_one_dimensional_is_refused(values: Any) -> None:
    with pytest.raises(ValueError, match="expected 1-D scores"):
        pack_float32(values)


@pytest.mark.parametrize(
    "values", [[15496, 995], np.array([15496, 995]), np.array([1, 0], dtype=np.uint8)]
)
def test_integer_token_ids_are_refused(values: Any) -> None:
    with pytest.raises(TypeError, match="were token ids passed instead of scores"):
        pack_float32(values)


@pytest.mark.parametrize(
    "values", [[True, 0.5], np.array([True, False]), ["0.5"], "0.5", 0.5, [None]]
)
def test_non_numbers_are_refused(values: Any) -> None:
    with pytest.raises(TypeError):
        pack_float32(values)


def test_a_tensor_that_needs_grad_names_the_fix() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"scores\.detach\(\)\.float\(\)\.cpu\(\)"):
        pack_float32(torch.tensor([0.5], requires_grad=True))


def test_unpack_checks_dtype_shape_and_length() -> None:
    view = pack_float32([1.0, 2.0])["view"]
    with pytest.raises(ValueError, match="expected dtype 'float32', got 'int32'"):
        unpack_float32({"view": view, "dtype": "int32", "shape": [2]})
    with pytest.raises(ValueError, match="8 bytes do not hold float32 of shape \\[3\\]"):
        unpack_float32({"view": view, "dtype": "float32", "shape": [3]})
    with pytest.raises(ValueError, match="expected a 1-D shape"):
        unpack_float32({"view": view, "dtype": "float32", "shape": [1, 2]})
    with pytest.raises(TypeError, match="got list"):
        unpack_float32({"view": [1.0, 2.0], "dtype": "float32", "shape": [2]})


def test_check_token_layout_accepts_lengths_that_add_up() -> None:
    check_token_layout(["The", " sum", " is", " 4", "."], 5, [2, 3])
    check_token_layout([], 0, [])
    check_token_layout(["a"], 1, [0, 1, 0])


@pytest.mark.parametrize(
    ("tokens", "scores_len", "counts", "message"),
    [
        (["a", "b"], 3, [2], "2 tokens but 3 scores"),
        (["a", "b"], 2, [1], "the step token counts add up to 1, but there are 2 tokens"),
        (["a", "b"], 2, [3, -1], "step 1 has token count -1"),
        (["a", "b"], 2, [1.0, 1], "step 0 has token count 1.0"),
    ],
)
def test_check_token_layout_refuses_lengths_that_do_not_add_up(
    tokens: list[str], scores_len: int, counts: list[Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_token_layout(tokens, scores_len, counts)


def _buffers(message: dict[str, Any]) -> list[bytes]:
    return [bytes(memoryview(b).cast("B")) for b in message["buffers"] or []]


def test_scores_travel_as_binary_buffers_not_json() -> None:
    widget = ScoresWidget(token_scores=pack_float32([0.5, -2.0]))
    opened = widget.comm.published[0]
    assert opened["msg_type"] == "comm_open"
    assert opened["data"]["buffer_paths"] == [["token_scores", "view"]]
    assert _buffers(opened) == [b"\x00\x00\x00\x3f\x00\x00\x00\xc0"]
    # The JSON part holds the dtype and shape and nothing of the values.
    state = opened["data"]["state"]["token_scores"]
    assert state == {"dtype": "float32", "shape": [2]}
    json.dumps(opened["data"])

    widget.token_scores = pack_float32([1.0, 0.0, -1.0])
    update = widget.comm.published[-1]
    assert update["data"]["method"] == "update"
    assert update["data"]["state"] == {"token_scores": {"dtype": "float32", "shape": [3]}}
    assert update["data"]["buffer_paths"] == [["token_scores", "view"]]
    assert _buffers(update) == [pack_float32([1.0, 0.0, -1.0])["view"]]
    json.dumps(update["data"])


def test_scores_sent_back_by_the_page_unpack_to_the_same_values() -> None:
    widget = ScoresWidget()
    sent = pack_float32([0.25, -3.5, 7.0])
    # As ipywidgets' front end sends a binary trait: the bytes arrive as a separate buffer.
    widget._handle_msg(
        {
            "content": {
                "data": {
                    "method": "update",
                    "state": {"token_scores": {"dtype": "float32", "shape": [3]}},
                    "buffer_paths": [["token_scores", "view"]],
                }
            },
            "buffers": [memoryview(sent["view"])],
        }
    )
    assert unpack_float32(widget.token_scores) == [0.25, -3.5, 7.0]


def test_texts_pack_to_utf8_with_a_nul_between_and_round_trip() -> None:
    texts = ["2", " +", "", "é", "\U0001f600", "a\nb", "NUL\x00inside", "lone \ud800"]
    packed = pack_strings(texts)
    assert (packed["dtype"], packed["shape"]) == ("utf8-nul", [8])
    assert packed["view"].count(b"\x00") == 7  # only separators: the NUL inside became U+FFFD
    assert unpack_strings(packed) == [*texts[:6], "NUL\ufffdinside", "lone \ufffd"]
    assert unpack_strings(pack_strings([])) == []
    assert unpack_strings(pack_strings([""])) == [""]


@pytest.mark.parametrize(
    ("texts", "unpacked"),
    [
        (["a", "\x00", "b"], ["a", "\ufffd", "b"]),
        (["\x00"], ["\ufffd"]),
        (["a", "\udfff"], ["a", "\ufffd"]),
        (["\ud83d\ude00"], ["\U0001f600"]),  # as the store does: a pair becomes its character
        (["", ""], ["", ""]),
    ],
    ids=["NUL alone", "only NUL", "surrogate alone", "surrogate pair", "empty texts"],
)
def test_a_single_nul_or_lone_surrogate_is_cleaned_too(
    texts: list[str], unpacked: list[str]
) -> None:
    assert unpack_strings(pack_strings(texts)) == unpacked


def test_texts_that_are_not_strings_are_refused_by_position() -> None:
    with pytest.raises(TypeError, match="token 1 is 5; tokens must be strings"):
        pack_strings(["a", 5])
    with pytest.raises(TypeError, match="expected a sequence of strings, got str"):
        pack_strings("abc")


def test_unpack_strings_checks_dtype_and_count() -> None:
    with pytest.raises(ValueError, match="expected dtype 'utf8-nul'"):
        unpack_strings(pack_float32([1.0]))
    with pytest.raises(ValueError, match="2 texts in a value of shape"):
        unpack_strings({**pack_strings(["a", "b"]), "shape": [3]})
