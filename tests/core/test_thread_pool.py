"""pydl's thread pool and work split (csrc/cpu/thread_pool.h, csrc/gemm/tiles.h).

Every parallel kernel gives the bits of a serial run at any thread count, more
threads than cores included, whichever thread is slow: the test hook
`_core._set_test_delay` makes one thread (the caller, or a worker) sleep before
each chunk it takes, so the others take its share; with waits that only sleep
(spin 0) or spin long. Timing is never asserted.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pydl import _core

from conftest import num_threads

THREAD_COUNTS = (2, 3, 5, 8)


@contextlib.contextmanager
def delayed(thread_index: int, us: int):
    _core._set_test_delay(thread_index, us)
    try:
        yield
    finally:
        _core._set_test_delay(-1, 0)


@contextlib.contextmanager
def spin(us: int):
    previous = _core.get_spin_us()
    _core.set_spin_us(us)
    try:
        yield
    finally:
        _core.set_spin_us(previous)


def parallel_kernels(rng):
    """name -> a call of one parallel kernel returning its outputs (fresh arrays)."""
    f32 = np.float32
    a = rng.standard_normal((390, 301)).astype(f32)
    b = rng.standard_normal((301, 530)).astype(f32)
    bias = rng.standard_normal(530).astype(f32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    skinny_a = rng.standard_normal((3, 2000)).astype(f32)
    skinny_b = rng.standard_normal((2000, 700)).astype(f32)
    x = rng.standard_normal((96, 200)).astype(f32)
    w = rng.standard_normal((200, 300)).astype(f32)
    dy = rng.standard_normal((96, 300)).astype(f32)
    big = rng.standard_normal(200_003).astype(f32)
    rows = rng.standard_normal((500, 600)).astype(f32)
    index = rng.integers(0, 500, 4000).astype(np.int64)

    def gemm(a, b, **kw):
        out = np.empty((a.shape[1] if kw.get("trans_a") else a.shape[0],
                        b.shape[0] if kw.get("trans_b") else b.shape[1]), a.dtype)
        _core.gemm(a, b, out, **kw)
        return [out]

    def dense(bf16=False):
        z, y = np.empty((96, 300), f32), np.empty((96, 300), f32)
        _core.dense_forward(x, w, bias[:300].copy(), "gelu", y, z, bf16=bf16)
        dz, dx = np.empty_like(dy), np.empty_like(x)
        dw, db = np.empty_like(w), np.empty(300, f32)
        _core.dense_backward(x, w, z, y, dy, "gelu", dz, dx, dw, db, bf16=bf16)
        return [z, y, dz, dx, dw, db]

    def activations():
        out, soft = np.empty_like(big), np.empty_like(rows)
        _core.activation_forward("gelu", big, out)
        _core.activation_forward("softmax", rows, soft)
        return [out, soft]

    def optimizers():
        wt, m, v = big.copy(), np.zeros_like(big), np.zeros_like(big)
        g = (big * 0.5).astype(f32)
        _core.adam_step(wt, g, m, v, lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, step=1)
        return [wt, m, v, np.array(_core.sum_of_squares(big))]

    def data():
        out = np.empty((4000, 600), f32)
        _core.gather_rows(rows, index, out)
        return [out, np.array(_core.all_finite(rows))]

    tokens = rng.integers(0, 500, (64, 40)).astype(np.int64)
    token_grads = rng.standard_normal((64, 40, 96)).astype(f32)
    gamma, beta = np.ones(600, f32), np.zeros(600, f32)

    def layers():
        table = np.empty((500, 96), f32)
        _core.embedding_backward(token_grads, tokens, table)
        y, mean, rstd = np.empty_like(rows), np.empty(500, f32), np.empty(500, f32)
        _core.layernorm_forward(rows, gamma, beta, y, mean, rstd)
        by, bmean = np.empty_like(rows), np.empty(600, f32)
        bvar, binv = np.empty(600, f32), np.empty(600, f32)
        _core.batchnorm_forward(rows, gamma, beta, bmean, bvar, binv, by)
        return [table, y, mean, rstd, by, bmean, bvar, binv]

    return {
        "gemm bias gelu": lambda: gemm(a, b, bias=bias, activation="gelu"),
        "gemm trans_a trans_b": lambda: gemm(np.ascontiguousarray(a.T), np.ascontiguousarray(b.T),
                                             trans_a=True, trans_b=True),
        "gemm float64 softmax": lambda: gemm(a64, b64, activation="softmax"),
        "gemm skinny": lambda: gemm(skinny_a, skinny_b),
        # bfloat16 operands: the bf16 kernels where installed, else the float32 ones
        "gemm bf16 relu": lambda: gemm(a, b, bias=bias, activation="relu", bf16=True),
        "gemm bf16 trans_b": lambda: gemm(a, np.ascontiguousarray(b.T), trans_b=True, bf16=True),
        "dense": dense,
        "dense bf16": lambda: dense(bf16=True),
        "activations": activations,
        "optimizers": optimizers,
        "data": data,
        "layers": layers,
    }


@pytest.fixture(scope="module")
def serial_results():
    kernels = parallel_kernels(np.random.default_rng(7))
    with num_threads(1):
        return {name: fn() for name, fn in kernels.items()}


def assert_same_bits(kernels, expected, label):
    for name, fn in kernels.items():
        for got, want in zip(fn(), expected[name]):
            np.testing.assert_array_equal(got, want, err_msg=f"{name} ({label})")


@pytest.mark.parametrize("threads", THREAD_COUNTS)
def test_any_thread_count_gives_the_serial_bits(threads, serial_results):
    kernels = parallel_kernels(np.random.default_rng(7))
    with num_threads(threads):
        assert_same_bits(kernels, serial_results, f"{threads} threads")


@pytest.mark.parametrize("slow_thread", [0, 1], ids=["slow caller", "slow worker"])
@pytest.mark.parametrize("threads", [2, 3])
def test_a_slow_thread_changes_no_bits(slow_thread, threads, serial_results):
    """One thread sleeps before every chunk it takes: the others take the rest."""
    kernels = parallel_kernels(np.random.default_rng(7))
    with num_threads(threads), delayed(slow_thread, 300):
        assert_same_bits(kernels, serial_results, f"thread {slow_thread} slow, {threads} threads")


@pytest.mark.parametrize("spin_us", [0, 20000])
def test_sleeping_or_spinning_waits_change_no_bits(spin_us, serial_results):
    kernels = parallel_kernels(np.random.default_rng(7))
    with num_threads(2), spin(spin_us):
        for _ in range(3):  # workers fall asleep between calls when spin_us is 0
            assert_same_bits(kernels, serial_results, f"spin {spin_us} us")


def test_pool_starts_the_workers_it_needs():
    x = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
    with num_threads(4):
        _core.matmul(x, x)
    serial = _core.build_info()["threading"] == "serial"
    assert _core.pool_workers() == 0 if serial else _core.pool_workers() >= 3
    stats = _core._pool_stats()
    assert stats["workers"] == _core.pool_workers()
    assert stats["jobs"] == 0 if serial else stats["jobs"] >= 1


def test_spin_and_delay_settings_are_checked():
    with pytest.raises(ValueError, match="us: expected an int between 0 and 1000000"):
        _core.set_spin_us(-1)
    with pytest.raises(ValueError, match="us: expected"):
        _core._set_test_delay(1, -5)


@pytest.mark.parametrize("shape", [(1024, 1024, 1024), (256, 4096, 4096), (2048, 2048, 2048)])
@pytest.mark.parametrize("threads", [2, 4])
def test_large_products_get_more_tiles_than_threads(shape, threads):
    m, k, n = shape
    gm, gn, used = _core._gemm_tile_grid(m, n, k, threads)
    assert used == threads
    assert 2 * threads <= gm * gn <= 8 * threads


def test_small_products_stay_serial():
    assert _core._gemm_tile_grid(8, 8, 8, 4) == (1, 1, 1)
    assert _core._gemm_tile_grid(0, 5, 5, 4) == (1, 1, 1)
    with pytest.raises(ValueError, match="dtype"):
        _core._gemm_tile_grid(64, 64, 64, 2, dtype="int8")
    with pytest.raises(ValueError, match="threads >= 1"):
        _core._gemm_tile_grid(64, 64, 64, 0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_can_use_the_pool(tmp_path):
    """The child of a fork has none of the parent's workers: it starts its own."""
    code = textwrap.dedent("""
        import os, sys, time
        import numpy as np
        import pydl
        from pydl import _core
        pydl.set_num_threads(2)
        x = np.random.default_rng(0).standard_normal((300, 300)).astype(np.float32)
        expected = _core.matmul(x, x)
        pid = os.fork()
        if pid == 0:
            ok = np.array_equal(_core.matmul(x, x), expected)
            os._exit(0 if ok else 3)
        deadline = time.time() + 60
        while time.time() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                sys.exit(os.waitstatus_to_exitcode(status))
            time.sleep(0.01)
        os.kill(pid, 9)
        sys.exit("the forked child hung")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
