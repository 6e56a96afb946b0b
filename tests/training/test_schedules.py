"""Learning-rate schedules against Keras 3's formulas, written out by hand."""

import json
import math

import pytest

from pydl.optimizers import schedules


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_matches_formula(staircase):
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=staircase)
    for step in [0, 1, 5, 9, 10, 15, 37]:
        p = step / 10
        if staircase:
            p = math.floor(p)
        assert s(step) == pytest.approx(0.1 * 0.5**p, rel=1e-15)
    assert s(20) == pytest.approx(0.025)


def test_piecewise_constant_decay_intervals_are_right_closed():
    s = schedules.PiecewiseConstantDecay(boundaries=[10, 20], values=[1.0, 0.5, 0.1])
    expected = {0: 1.0, 10: 1.0, 11: 0.5, 20: 0.5, 21: 0.1, 1000: 0.1}
    assert {step: s(step) for step in expected} == expected


def test_cosine_decay_without_warmup():
    s = schedules.CosineDecay(0.2, decay_steps=100, alpha=0.1)
    assert s(0) == pytest.approx(0.2)
    assert s(50) == pytest.approx(0.2 * (0.9 * 0.5 + 0.1))  # cos(pi/2) = 0
    assert s(100) == pytest.approx(0.02)
    assert s(500) == pytest.approx(0.02)  # held at the end
    step = 37
    decayed = (1 - 0.1) * 0.5 * (1 + math.cos(math.pi * step / 100)) + 0.1
    assert s(step) == pytest.approx(0.2 * decayed, rel=1e-15)


def test_cosine_decay_with_warmup():
    s = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    assert [s(k) for k in range(4)] == pytest.approx([0.0, 0.25, 0.5, 0.75])
    assert s(4) == pytest.approx(1.0)  # warmup over: decay starts from warmup_target
    assert s(9) == pytest.approx(0.5)  # halfway through the decay
    assert s(14) == pytest.approx(0.0, abs=1e-15)
    assert s(100) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.1, 7, 0.9, staircase=True),
        schedules.PiecewiseConstantDecay([3, 8], [0.3, 0.2, 0.1]),
        schedules.CosineDecay(0.1, 50, alpha=0.05, warmup_target=0.3, warmup_steps=5),
    ],
)
def test_config_round_trip(schedule):
    config = json.loads(json.dumps(schedules.serialize(schedule)))
    restored = schedules.deserialize(config)
    assert type(restored) is type(schedule)
    assert restored.get_config() == schedule.get_config()
    assert [restored(k) for k in range(60)] == [schedule(k) for k in range(60)]


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="boundaries"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.CosineDecay(0.1, -5)
    with pytest.raises(ValueError, match="Unknown learning-rate schedule"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
