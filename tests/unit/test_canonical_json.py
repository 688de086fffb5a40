"""canonical_json writes exactly what json.dumps with the canonical options writes: every
hash in the chain and every bundle digest depends on these bytes."""
from __future__ import annotations

import json
import random

import pytest

from pbvote.audit import chain
from pbvote.audit.chain import canonical_json

OPTIONS = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False,
           "allow_nan": False}
LEAVES = [0, 1, -5, 10**30, 2.5, -0.0, 1e300, None, True, False, "", "a", "é\u2028\u2029",
          "\"\\\n\t\x01\x7f", "中文", "\ud83d\ude00"]


def _value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        return rng.choice(LEAVES)
    if roll < 0.65:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {rng.choice(["a", "b", "é", "Z", "10", "2", "", "中"]): _value(rng, depth + 1)
            for _ in range(rng.randrange(5))}


def test_the_fast_encoder_is_in_use_and_writes_what_json_dumps_writes():
    assert chain._encode is not chain._dumps  # CPython: the C encoder, made once per call
    rng = random.Random(21)
    for _ in range(5000):
        value = _value(rng)
        assert canonical_json(value) == json.dumps(value, **OPTIONS)


@pytest.mark.parametrize("bad", [float("nan"), {"a": float("inf")}, {"a": object()},
                                 {(1,): 2}, {1: 2, "a": 3}])
def test_it_refuses_what_json_dumps_refuses(bad):
    with pytest.raises((TypeError, ValueError)) as ours:
        canonical_json(bad)
    with pytest.raises(ours.type):
        json.dumps(bad, **OPTIONS)


def test_a_circular_value_is_refused():
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError):
        canonical_json(loop)


def test_the_bundles_pretty_json_is_json_dumps_with_an_indent():
    from pbvote.audit.bundle import pretty_json

    rng = random.Random(7)
    shared = ["NB-1", "NB-2"]
    for _ in range(3000):
        value = _value(rng)
        document = {"districts": {"b": [shared, value, shared], "a": [value, [], {}]},
                    "deep": [[shared, [shared]], {"x": shared}], "v": value}
        for candidate in (value, document, {"only": value}):
            try:
                expected = json.dumps(candidate, indent=2, sort_keys=True, ensure_ascii=False)
            except TypeError:
                continue
            assert pretty_json(candidate) == expected
    for odd in ({1: "a", 2: [1.5, None]}, {"k": {3: [shared]}}, ((shared,),), float("nan")):
        assert pretty_json(odd) == json.dumps(odd, indent=2, sort_keys=True, ensure_ascii=False)


def test_a_chain_export_line_is_the_canonical_json_of_its_record():
    from pbvote.audit.bundle import chain_export_line

    rng = random.Random(11)
    alphabet = 'ab"\\\n\t\x00\x1f\x7fé中\u2028\u2029\ud800 {}:,'
    for _ in range(2000):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
                 for _ in range(4)]
        position = rng.randrange(0, 10**12)
        record = {"position": position, "kind": texts[0], "entry_json": texts[1],
                  "previous_hash": texts[2], "entry_hash": texts[3]}
        assert chain_export_line(**record) == canonical_json(record) + "\n"
