"""Tokens and their scores as binary buffers for widget traits, and the checks they need.

ipywidgets sends every ``bytes``/``memoryview`` value inside a synced trait as a binary buffer
of the comm message, not as JSON, so ``{"view": bytes, "dtype": "float32", "shape": [n]}`` costs
4 bytes a token on the wire. Token texts travel the same way, as UTF-8 with a NUL between them:
100k tokens as a JSON list of strings cost the kernel ~50 ms of checks and encoding. The page
decodes both in ``js/lib/buffers.ts``.
"""

from __future__ import annotations

import math
import numbers
import sys
from array import array
from collections.abc import Mapping, Sequence
from typing import Any

from labwidget.store import clean_text

__all__ = ["check_token_layout", "pack_float32", "pack_strings", "unpack_float32", "unpack_strings"]

STRINGS_DTYPE = "utf8-nul"

_INT_MESSAGE = (
    "scores are {kind}, not floats: were token ids passed instead of scores? "
    "If they really are scores, convert them with float() or .astype('float32') first"
)


def pack_float32(values: Any) -> dict[str, Any]:
    r"""Packs 1-D float scores (list, numpy array, CPU torch tensor) into a binary trait value.

    Model debugging must not show garbage colours silently, so NaN, infinities and values
    beyond float32's range are refused, as are integers (token ids passed by mistake) and
    input of more than one dimension.

    Args:
        values: a sequence of floats, or anything numpy can read through ``__array__``
            (a numpy array, a CPU torch tensor without grad).

    Returns:
        ``{"view": <little-endian float32 bytes>, "dtype": "float32", "shape": [n]}``.

    Raises:
        ValueError: a value is NaN, infinite or too large for float32 (the message names the
            first such index), or the input is not 1-D.
        TypeError: the input holds integers, booleans or non-numbers.

    >>> pack_float32([1.0, -2.5])
    {'view': b'\x00\x00\x80?\x00\x00 \xc0', 'dtype': 'float32', 'shape': [2]}

    """
    view = _array_float32(values) if hasattr(values, "__array__") else _sequence_float32(values)
    return {"view": view, "dtype": "float32", "shape": [len(view) // 4]}


def unpack_float32(packed: Mapping[str, Any]) -> list[float]:
    """Reads a value made by :func:`pack_float32` (or sent by the page) back into floats.

    >>> unpack_float32(pack_float32([0.5, -1.0]))
    [0.5, -1.0]

    """
    data, count = _unpacked(packed, "float32")
    if len(data) != 4 * count:
        raise ValueError(f"{len(data)} bytes do not hold float32 of shape {[count]}")
    floats = array("f", data)
    if sys.byteorder == "big":
        floats.byteswap()
    return floats.tolist()


def pack_strings(texts: Sequence[str]) -> dict[str, Any]:
    r"""Packs texts (a model's tokens) into one binary trait value: UTF-8, NUL between texts.

    Each text is cleaned as the store cleans model output (:func:`labwidget.store.clean_text`:
    NUL and lone surrogates become U+FFFD), so no text holds the separator.

    >>> pack_strings(["2", " +", "\x00"])
    {'view': b'2\x00 +\x00\xef\xbf\xbd', 'dtype': 'utf8-nul', 'shape': [3]}

    """
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"expected a sequence of strings, got {type(texts).__name__}")
    if not set(map(type, texts)) <= {str}:
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"token {index} is {text!r}; tokens must be strings")
    data = _joined_if_clean(texts)
    if data is None:
        data = "\x00".join(map(clean_text, texts)).encode("utf-8")
    return {"view": data, "dtype": STRINGS_DTYPE, "shape": [len(texts)]}


def _joined_if_clean(texts: Sequence[str]) -> bytes | None:
    """The texts joined by NUL as UTF-8, or None if one holds NUL or a lone surrogate.

    Usually none does: checking the whole once is several times faster than cleaning 100k
    tokens one by one.
    """
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(len(texts) - 1, 0):
        return None
    try:
        return joined.encode("utf-8")  # strict: fails on a lone surrogate
    except UnicodeEncodeError:
        return None


def unpack_strings(packed: Mapping[str, Any]) -> list[str]:
    """The texts of a :func:`pack_strings` value.

    >>> unpack_strings(pack_strings(["a", "", "é"]))
    ['a', '', 'é']

    """
    data, count = _unpacked(packed, STRINGS_DTYPE)
    texts = data.decode("utf-8").split("\x00") if count else []
    if len(texts) != count:
        raise ValueError(f"{len(texts)} texts in a value of shape {[count]}")
    return texts


def _unpacked(packed: Mapping[str, Any], dtype: str) -> tuple[bytes, int]:
    """The bytes of a packed 1-D value of ``dtype`` and its length, after checking both."""
    if packed.get("dtype") != dtype:
        raise ValueError(f"expected dtype {dtype!r}, got {packed.get('dtype')!r}")
    shape = packed.get("shape")
    if not isinstance(shape, Sequence) or len(shape) != 1:
        raise ValueError(f"expected a 1-D shape like [n], got {shape!r}")
    view = packed.get("view")
    if not isinstance(view, bytes | bytearray | memoryview):
        raise TypeError(f"expected the view as bytes or memoryview, got {type(view).__name__}")
    return bytes(memoryview(view).cast("B")), shape[0]


def check_token_layout(tokens: list[str], scores_len: int, step_token_counts: list[int]) -> None:
    """Checks that tokens, their scores and the steps they are split into add up.

    Args:
        tokens: the output's tokens, in order: the first step's, then the second's, ...
        scores_len: how many scores there are, one per token.
        step_token_counts: how many tokens each step has.

    Raises:
        ValueError: a count is negative, or the lengths do not add up.

    >>> check_token_layout(["2+", "2", "=4"], 3, [2, 1])
    >>> check_token_layout(["2+", "2"], 3, [2])
    Traceback (most recent call last):
    ...
    ValueError: 2 tokens but 3 scores: each token needs exactly one score

    """
    if scores_len != len(tokens):
        raise ValueError(
            f"{len(tokens)} tokens but {scores_len} scores: each token needs exactly one score"
        )
    for step, count in enumerate(step_token_counts):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"step {step} has token count {count!r}; counts must be ints >= 0")
    total = sum(step_token_counts)
    if total != len(tokens):
        raise ValueError(
            f"the step token counts add up to {total}, but there are {len(tokens)} tokens"
        )


def _sequence_float32(values: Any) -> bytes:
    """A sequence of Python numbers as little-endian float32 bytes, refusing what is not scores.

    The checks run per type, not per value, and NaN/inf/overflow show up in the sum of the packed
    values, so 100k scores cost a few C-level passes; the slow per-value loops run only to name
    the first bad value once there is one.
    """
    if isinstance(values, str | bytes | bytearray) or not isinstance(values, Sequence):
        raise TypeError(f"expected a 1-D sequence of floats, got {type(values).__name__}")
    kinds = set(map(type, values))
    if not all(map(_is_score_type, kinds)):
        _check_each_is_a_score(values)
    if kinds and all(issubclass(kind, numbers.Integral) for kind in kinds):
        raise TypeError(_INT_MESSAGE.format(kind="ints"))
    packed = array("f", values)
    # Any NaN or infinity, including a value that overflowed float32, makes the sum non-finite;
    # finite float32 values summed as doubles never overflow.
    if not math.isfinite(sum(packed)):
        _check_finite([float(value) for value in values], packed)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def _is_score_type(kind: type) -> bool:
    if issubclass(kind, Sequence) and not issubclass(kind, str):
        return False
    return not issubclass(kind, bool) and issubclass(kind, numbers.Real)


def _check_each_is_a_score(values: Sequence[Any]) -> None:
    """Raises at the first value that is a sequence (nested input), a bool or not a number."""
    for index, value in enumerate(values):
        if isinstance(value, Sequence) and not isinstance(value, str):
            raise ValueError(f"expected 1-D scores, but item {index} is a sequence")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"score {index} is {value!r}; scores must be floats")


def _check_finite(floats: Sequence[float], packed: Sequence[float]) -> None:
    """Raises at the first NaN or infinity, or else at the first value float32 cannot hold."""
    for index, value in enumerate(floats):
        if not math.isfinite(value):
            raise ValueError(
                f"score {index} is {value}; scores must be finite: "
                "replace NaN/inf (e.g. torch.nan_to_num) before showing them"
            )
    for index, value in enumerate(packed):
        if math.isinf(value):
            raise ValueError(f"score {index} is {floats[index]}, too large for float32")


def _array_float32(values: Any) -> bytes:
    """An array-like (numpy array, CPU torch tensor) of floats as little-endian float32 bytes."""
    # Anything with __array__ comes with numpy, so only array input needs it.
    import numpy as np

    try:
        arr = np.asarray(values)
    except (TypeError, RuntimeError) as exc:
        raise TypeError(
            f"could not read the scores as an array ({exc}); "
            "pass a float32 CPU tensor without grad, e.g. scores.detach().float().cpu()"
        ) from exc
    if arr.ndim != 1:
        raise ValueError(f"expected 1-D scores, got shape {list(arr.shape)}")
    if arr.dtype.kind in "biu":
        raise TypeError(_INT_MESSAGE.format(kind=f"{arr.dtype}"))
    if arr.dtype.kind != "f":
        raise TypeError(f"expected float scores, got dtype {arr.dtype}")
    # Through float64, as Python floats would go: wider floats round the same way as a list.
    doubles = arr.astype(np.float64, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        packed = doubles.astype("<f4")
    if not np.isfinite(packed).all():
        _check_finite(doubles.tolist(), packed.tolist())
    return packed.tobytes()
