"""Data-parallel fit on 2 processes against 1 process: the same steps, the same bits
on every rank, the same bits run after run (plan and tape; a last batch of 1 row per
rank and of 1 row in all, which leaves rank 1 without rows)."""

from __future__ import annotations

import numpy as np
import pytest

from launch_ranks import results

CASES = [f"{path}_{n}" for path in ("plan", "tape") for n in (26, 25)]


@pytest.fixture(scope="module")
def equivalence(tmp_path_factory):
    return results("equivalence", tmp_path_factory.mktemp("equivalence"))


def _weights(arrays: dict, prefix: str) -> list:
    out, i = [], 0
    while f"{prefix}_{i}" in arrays:
        out.append(arrays[f"{prefix}_{i}"])
        i += 1
    assert out, prefix
    return out


@pytest.mark.parametrize("case", CASES)
def test_one_sgd_step_matches_one_process(equivalence, case):
    _, arrays, _ = equivalence
    for r in range(2):
        got = _weights(arrays[r], f"{case}_step")
        want = _weights(arrays[r], f"{case}_step_ref")
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", CASES)
def test_losses_of_every_step_match_one_process(equivalence, case):
    values, arrays, _ = equivalence
    for r in range(2):
        losses, ref = values[r][f"{case}_losses"], values[r][f"{case}_ref_losses"]
        assert len(losses) == len(ref) == 2 * 4  # 2 epochs of ceil(n / 8) global steps
        np.testing.assert_allclose(losses, ref, rtol=1e-4)
        # accuracy from the summed metric state: exact counts, the same as 1 process
        np.testing.assert_allclose(values[r][f"{case}_accuracies"],
                                   values[r][f"{case}_ref_accuracies"], rtol=1e-12)
        for g, w in zip(_weights(arrays[r], f"{case}_final"),
                        _weights(arrays[r], f"{case}_final_ref")):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_ranks_hold_identical_weights_after_every_step(equivalence, case):
    values, _, _ = equivalence
    digests = [v[f"{case}_digests"] for v in values]
    assert len(digests[0]) == 8 and len(set(digests[0])) == 8  # the weights moved each step
    assert digests[0] == digests[1]


@pytest.mark.parametrize("case", CASES)
def test_whole_epoch_calls_give_the_bits_of_step_by_step_calls(equivalence, case):
    values, _, _ = equivalence
    for v in values:
        assert v[f"{case}_quiet_digest"] == v[f"{case}_final_digest"]


def test_plan_and_tape_give_the_same_bits(equivalence):
    values, _, _ = equivalence
    for n in (26, 25):
        assert values[0][f"plan_{n}_final_digest"] == values[0][f"tape_{n}_final_digest"]


def test_two_runs_are_bitwise_identical(equivalence, tmp_path):
    again, _, _ = results("equivalence", tmp_path)
    first, _, _ = equivalence
    for case in CASES:
        assert again[0][f"{case}_digests"] == first[0][f"{case}_digests"]


def test_custom_gradient_tape_loop_train_step_and_clipping(tmp_path):
    values, arrays, _ = results("custom_loop", tmp_path)
    for r in range(2):
        # each rank's half of each batch, weights broadcast from rank 0 first: the
        # 1-process steps on whole batches (Adam: the reduced gradient is their mean)
        for g, w in zip(_weights(arrays[r], "loop"), _weights(arrays[r], "loop_ref")):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
        for g, w in zip(_weights(arrays[r], "clipped"), _weights(arrays[r], "clipped_ref")):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)
        for g, w in zip(_weights(arrays[r], "custom"), _weights(arrays[r], "custom_ref")):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)
        history, ref = values[r]["history"], values[r]["ref_history"]
        np.testing.assert_allclose(history["loss"], ref["loss"], rtol=1e-5)
        assert history["custom"] == [0.5, 0.5]  # a log no metric backs: the ranks' mean
        assert "broadcast_weights" in values[r]["apart_error"]
        assert "own train_step needs rows on every process" in values[r]["empty_error"]
    assert values[0]["digests"] == values[1]["digests"]
    for a, b in zip(_weights(arrays[0], "loop"), _weights(arrays[1], "loop")):
        assert np.array_equal(a, b)


def test_own_shards_walk_every_sample_at_the_global_pace(tmp_path):
    values, arrays, _ = results("own_shards", tmp_path)
    assert values[0]["global_sizes"] == [7, 8, 8]  # 15 + 8 samples, batch_size 8
    assert values[0]["digests"] == values[1]["digests"]
    assert values[0]["history"] == values[1]["history"]
    for accuracy in values[0]["history"]["accuracy"]:  # counts over all 23 samples
        assert abs(accuracy * 23 - round(accuracy * 23)) < 1e-9
    for accuracy in values[0]["history"]["val_accuracy"]:  # 5 + 7 validation samples
        assert abs(accuracy * 12 - round(accuracy * 12)) < 1e-9
    for g, w in zip(_weights(arrays[0], "w"), _weights(arrays[0], "ref")):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)
