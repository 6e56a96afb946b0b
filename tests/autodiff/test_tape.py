"""GradientTape: what it records, the structures it returns, and its misuse errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import pydl
from pydl import ops


def test_gradient_of_variables_is_recorded_automatically():
    w = pydl.Variable(np.array([1.0, -2.0, 3.0]))
    with pydl.GradientTape() as tape:
        loss = ops.sum(ops.square(w))
    grad = tape.gradient(loss, w)
    assert isinstance(grad, np.ndarray) and grad.dtype == np.float64
    np.testing.assert_allclose(grad, 2 * w.numpy())


def test_watch_makes_arrays_differentiable():
    x = np.array([1.0, 2.0])
    with pydl.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.multiply(x, x))
    np.testing.assert_allclose(tape.gradient(y, x), 2 * x)


def test_unwatched_inputs_are_not_recorded_and_give_none():
    x = np.array([1.0, 2.0])
    frozen = pydl.Variable([1.0, 1.0], trainable=False)
    w = pydl.Variable([3.0, 4.0])
    with pydl.GradientTape() as tape:
        y = ops.sum(x * frozen * w)
    dx, dfrozen, dw = tape.gradient(y, [x, frozen, w])
    assert dx is None and dfrozen is None
    np.testing.assert_allclose(dw, [1.0, 2.0])


def test_unconnected_sources_give_none_or_zeros():
    a, b = pydl.Variable([1.0]), pydl.Variable([[2.0, 3.0]])
    with pydl.GradientTape(persistent=True) as tape:
        y = ops.sum(a * 3)
    assert tape.gradient(y, [a, b])[1] is None
    zero = tape.gradient(y, b, unconnected_gradients="zero")
    np.testing.assert_array_equal(zero, np.zeros((1, 2), np.float32))


def test_ops_outside_the_tape_are_constants():
    w = pydl.Variable([2.0])
    y_outside = w * 3
    with pydl.GradientTape() as tape:
        z = ops.sum(y_outside * w)
    np.testing.assert_allclose(tape.gradient(z, w), [6.0])


def test_persistent_tape_allows_several_gradients():
    w = pydl.Variable([1.0, 2.0])
    with pydl.GradientTape(persistent=True) as tape:
        y = ops.sum(w * w)
        z = ops.sum(w * 5)
    np.testing.assert_allclose(tape.gradient(y, w), [2.0, 4.0])
    np.testing.assert_allclose(tape.gradient(z, w), [5.0, 5.0])
    np.testing.assert_allclose(tape.gradient(y, w), [2.0, 4.0])


def test_non_persistent_tape_refuses_a_second_gradient():
    w = pydl.Variable([1.0])
    with pydl.GradientTape() as tape:
        y = ops.sum(w * w)
    tape.gradient(y, w)
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.gradient(y, w)


def test_nested_structure_of_sources_is_preserved():
    a, b, c = pydl.Variable([1.0]), pydl.Variable([2.0]), pydl.Variable([[3.0]])
    with pydl.GradientTape() as tape:
        y = ops.sum(a * b) + ops.sum(c)
    grads = tape.gradient(y, {"ab": (a, b), "rest": [c]})
    assert set(grads) == {"ab", "rest"} and isinstance(grads["ab"], tuple)
    np.testing.assert_allclose(grads["ab"][0], [2.0])
    np.testing.assert_allclose(grads["ab"][1], [1.0])
    np.testing.assert_allclose(grads["rest"][0], [[1.0]])


def test_non_scalar_target_needs_output_gradients():
    w = pydl.Variable([1.0, 2.0, 3.0])
    with pydl.GradientTape(persistent=True) as tape:
        y = w * w
    with pytest.raises(ValueError, match=r"target must be a scalar, received shape \(3,\)"):
        tape.gradient(y, w)
    upstream = np.array([1.0, 0.0, -1.0], np.float32)
    np.testing.assert_allclose(tape.gradient(y, w, output_gradients=upstream),
                               2 * w.numpy() * upstream)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        tape.gradient(y, w, output_gradients=np.ones(2))


def test_gradient_with_respect_to_an_intermediate_tensor():
    w = pydl.Variable([1.0, 2.0])
    with pydl.GradientTape() as tape:
        h = w * 3
        y = ops.sum(h * h)
    dh, dw = tape.gradient(y, [h, w])
    np.testing.assert_allclose(dh, 2 * h.numpy())
    np.testing.assert_allclose(dw, 18 * w.numpy())


def test_shared_subexpressions_accumulate():
    w = pydl.Variable([2.0])
    with pydl.GradientTape() as tape:
        h = w * w
        y = ops.sum(h + h * w + ops.exp(ops.log(h)))
    # y = 2 w^2 + w^3 -> dy/dw = 4w + 3w^2
    np.testing.assert_allclose(tape.gradient(y, w), [4 * 2.0 + 3 * 4.0], rtol=1e-6)


def test_long_chains_do_not_hit_the_recursion_limit():
    w = pydl.Variable([1.0])
    with pydl.GradientTape() as tape:
        y = w
        for _ in range(3000):
            y = y * 1.0
        y = ops.sum(y)
    np.testing.assert_allclose(tape.gradient(y, w), [1.0])


def test_stop_recording_pauses_the_tape():
    w = pydl.Variable([3.0])
    with pydl.GradientTape() as tape:
        with tape.stop_recording():
            c = w * w
        y = ops.sum(c * w)
    np.testing.assert_allclose(tape.gradient(y, w), [9.0])


def test_watch_accessed_variables_false_records_only_watched():
    a, b = pydl.Variable([1.0]), pydl.Variable([2.0])
    with pydl.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(b)
        y = ops.sum(a * b)
    da, db = tape.gradient(y, [a, b])
    assert da is None
    np.testing.assert_allclose(db, [1.0])
    assert tape.watched_variables() == []  # the tape was used: it forgot its graph


def test_misuse_raises_clear_errors():
    w = pydl.Variable([1.0])
    never_entered = pydl.GradientTape()
    with pytest.raises(RuntimeError, match="recorded nothing"):
        never_entered.gradient(w, w)
    with pydl.GradientTape() as tape:
        y = ops.sum(w * w)
        with pytest.raises(RuntimeError, match="inside the tape"):
            tape.gradient(y, w)
    with pydl.GradientTape() as outer:
        with pydl.GradientTape() as inner:
            y = ops.sum(w * w)
        with pytest.raises(RuntimeError, match="second derivatives"):
            inner.gradient(y, w)
    with pytest.raises(TypeError, match="watch"):
        outer.watch(3.0)
    with pytest.raises(ValueError, match="unconnected_gradients"):
        outer.gradient(y, w, unconnected_gradients="zeros")


def test_tapes_are_thread_local():
    w = pydl.Variable([2.0])
    seen = {}

    def other_thread():
        seen["recorded"] = (w * w)._backward is not None

    with pydl.GradientTape():
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        seen["here"] = (w * w)._backward is not None
    assert seen == {"recorded": False, "here": True}


def test_gradient_dtype_and_shape_follow_the_source():
    w32 = pydl.Variable(np.ones((2, 1), np.float32))
    x64 = np.ones((3, 2, 4))
    with pydl.GradientTape() as tape:
        tape.watch(x64)
        y = ops.sum(x64 * w32)
    dw, dx = tape.gradient(y, [w32, x64])
    assert dw.dtype == np.float32 and dw.shape == (2, 1)
    assert dx.dtype == np.float64 and dx.shape == (3, 2, 4)
    np.testing.assert_allclose(dw, np.full((2, 1), 12.0))


def test_non_persistent_gradient_releases_the_graph_of_kept_results():
    w = pydl.Variable(np.ones(3))
    with pydl.GradientTape() as tape:
        h = w * 2
        loss = ops.sum(h * h)
    tape.gradient(loss, w)
    assert loss._inputs is None and h._backward is None  # kept results hold no activations
    np.testing.assert_allclose(np.asarray(loss), 12.0)


def test_a_graph_recorded_by_two_tapes_survives_the_first_gradient():
    w = pydl.Variable([1.0, 2.0])
    with pydl.GradientTape(persistent=True) as outer:
        with pydl.GradientTape() as inner:
            y = ops.sum(w * w)
    np.testing.assert_allclose(inner.gradient(y, w), [2.0, 4.0])
    np.testing.assert_allclose(outer.gradient(y, w), [2.0, 4.0])
