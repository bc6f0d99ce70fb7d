"""Codecs: round trips in both word orders, sentinels read as n/a, scale factors."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols import codecs
from protocols.codecs import NOT_IMPLEMENTED, apply_scale, decode_raw, encode_raw

RANGES = {"u16": (0, 0xFFFE), "s16": (-0x7FFF, 0x7FFF), "u32": (0, 0xFFFFFFFE),
          "s32": (-0x7FFFFFFF, 0x7FFFFFFF), "u64": (0, 2**64 - 2), "s64": (-(2**63) + 1, 2**63 - 1)}


@pytest.mark.parametrize("type_", sorted(RANGES))
@pytest.mark.parametrize("order", ["big", "little"])
def test_integer_round_trip(type_, order):
    lo, hi = RANGES[type_]

    @given(st.integers(lo, hi))
    def check(value):
        regs = encode_raw(value, type_, order)
        assert len(regs) == codecs.WIDTH[type_]
        assert all(0 <= r <= 0xFFFF for r in regs)
        assert decode_raw(regs, type_, order) == value
    check()


@given(st.floats(allow_nan=False, allow_infinity=False, width=32), st.sampled_from(["big", "little"]))
def test_float32_round_trip(value, order):
    assert decode_raw(encode_raw(value, "float32", order), "float32", order) == value


@given(st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-.", min_size=1, max_size=16),
       st.sampled_from(["big", "little"]))
def test_string_round_trip(text, order):
    regs = encode_raw(text, "string", order, count=8)
    assert len(regs) == 8
    assert decode_raw(regs, "string", order) == text


def test_word_order_differs_for_32_bit():
    assert encode_raw(0x00010002, "u32", "big") == [0x0001, 0x0002]
    assert encode_raw(0x00010002, "u32", "little") == [0x0002, 0x0001]
    assert decode_raw([0x0002, 0x0001], "u32", "little") == 0x00010002


@pytest.mark.parametrize("regs,type_", [
    ([0x8000], "s16"), ([0xFFFF], "u16"), ([0x8000, 0x0000], "s32"), ([0xFFFF, 0xFFFF], "u32"),
    ([0xFFFF] * 4, "u64"), ([0x8000, 0, 0, 0], "s64"), ([0x7FC0, 0x0000], "float32"),
    ([0xFFFF], "enum16"), ([0x8000], "sunssf"), ([0, 0, 0, 0], "string")])
def test_sentinels_are_not_numbers(regs, type_):
    value = decode_raw(regs, type_)
    assert value is NOT_IMPLEMENTED
    assert str(value) == "n/a"
    assert apply_scale(value, 0.1) is NOT_IMPLEMENTED


def test_little_endian_sentinel_s32():
    assert decode_raw([0x0000, 0x8000], "s32", "little") is NOT_IMPLEMENTED


def test_scale_and_scale_factor():
    assert apply_scale(2305, 0.1) == pytest.approx(230.5)
    assert apply_scale(1234, 1.0, -2) == pytest.approx(12.34)
    assert apply_scale(5, 1.0, 3) == pytest.approx(5000)
    assert apply_scale(1234, 1.0, NOT_IMPLEMENTED) is NOT_IMPLEMENTED


def test_bits_and_wrong_length():
    assert codecs.bits_set(0b1000_0101) == [0, 2, 7]
    with pytest.raises(ValueError):
        decode_raw([1], "u32")
    assert not math.isnan(decode_raw(encode_raw(1.5, "float32"), "float32"))
