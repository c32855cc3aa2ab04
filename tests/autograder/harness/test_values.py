"""Plain data across the boundary: conversion inside the guard, bytes that never unpickle."""

import base64
import io
import json
from collections import namedtuple

import numpy as np
import pytest

from autograder.harness.values import (
    MAX_BYTES,
    DecodeError,
    NotData,
    Opaque,
    Symbolic,
    decode,
    encode,
    to_plain,
)


def test_roundtrip_of_nested_data_keeps_types():
    value = {
        "array": np.arange(6, dtype="float32").reshape(2, 3),
        "scalar": np.int64(7),
        "tuple": (1, 2.5, None, "x", True),
        (1, 2): [np.float64("nan"), float("inf")],
        "opaque": Opaque("function", "<function f>"),
        "symbolic": Symbolic((None, 7, 7, 4), "float32"),
    }
    again = decode(encode(value))
    assert again["array"].dtype == np.float32 and (again["array"] == value["array"]).all()
    assert again["scalar"] == 7 and isinstance(again["scalar"], np.int64)
    assert again["tuple"] == (1, 2.5, None, "x", True)
    assert np.isnan(again[(1, 2)][0]) and again[(1, 2)][1] == float("inf")
    assert again["opaque"] == value["opaque"] and again["symbolic"] == value["symbolic"]


def test_objects_inside_results_become_opaque_and_objects_alone_are_not_data():
    plain = to_plain({"activation": print, "units": 4})
    assert plain["units"] == 4 and isinstance(plain["activation"], Opaque)
    with pytest.raises(NotData):
        to_plain(object())
    with pytest.raises(NotData):
        to_plain(np.array([object()]))


def test_subclasses_of_containers_become_their_builtin_without_running_their_methods():
    # A list attribute of a Keras layer is a TrackedList; a namedtuple is a tuple.
    class Hostile(list):
        def __iter__(self):
            raise AssertionError("the subclass's own __iter__ ran")

    class Mapping(dict):
        def items(self):
            raise AssertionError("the subclass's own items ran")

    Pair = namedtuple("Pair", "height width")
    plain = to_plain({"strides": Hostile([3, 2]), "pair": Pair(1, 2), "nested": Mapping(a=1)})
    assert plain == {"strides": [3, 2], "pair": (1, 2), "nested": {"a": 1}}
    assert type(plain["strides"]) is list and type(plain["pair"]) is tuple
    assert type(plain["nested"]) is dict

    class Impostor:  # claims to be a list
        __class__ = list

    assert isinstance(Impostor(), list)
    assert isinstance(to_plain([Impostor()])[0], Opaque)


def test_exact_fractions_and_decimals_become_floats_and_integers_stay():
    from decimal import Decimal
    from fractions import Fraction

    assert to_plain(Fraction(73, 576)) == 73 / 576 and type(to_plain(Fraction(1, 2))) is float
    assert to_plain(Decimal("0.125")) == 0.125
    assert to_plain(5) == 5 and type(to_plain(5)) is int


def test_tensors_and_shapes_become_numpy_and_tuples():
    import keras
    import tensorflow as tf

    assert to_plain(tf.constant([1.0, 2.0])).tolist() == [1.0, 2.0]
    assert to_plain(keras.Variable(np.ones(2))).tolist() == [1.0, 1.0]
    assert to_plain(tf.TensorShape([None, 3])) == (None, 3)
    assert to_plain(keras.Input((4,))) == Symbolic((None, 4), "float32")


def test_pickled_arrays_and_unknown_tags_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    payload = json.dumps({"$nd": base64.b64encode(buffer.getvalue()).decode()}).encode()
    with pytest.raises(DecodeError, match="bad array"):
        decode(payload)
    with pytest.raises(DecodeError, match="unknown tag"):
        decode(b'{"$eval": "1"}')


def test_an_array_header_larger_than_its_data_is_refused_before_allocation():
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(4))
    forged = buffer.getvalue().replace(b"(4,)", b"(10000000000,)".ljust(4))
    payload = json.dumps({"$nd": base64.b64encode(forged).decode()}).encode()
    with pytest.raises(DecodeError):
        decode(payload)


def test_oversized_and_deep_messages_are_refused():
    with pytest.raises(DecodeError, match="larger than"):
        decode(b" " * (MAX_BYTES + 1))
    deep = "[" * 50 + "]" * 50
    with pytest.raises(DecodeError, match="too deeply"):
        decode(deep.encode())
