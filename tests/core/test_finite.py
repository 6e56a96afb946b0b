"""_core.all_finite: fit's check that the data holds no NaN or inf (csrc/nn/finite.h)."""

import numpy as np
import pytest

from pydl import _core

from conftest import num_threads

BLOCK = 8192  # values per block in csrc/nn/finite.cpp


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 7, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 3])
def test_every_position_of_a_bad_value_is_found(dtype, n, rng):
    x = rng.standard_normal(n).astype(dtype)
    assert _core.all_finite(x) is True
    positions = sorted({0, n // 2, BLOCK - 1, BLOCK, n - 1} & set(range(n)))
    for bad in (np.nan, np.inf, -np.inf):
        for i in positions:
            y = x.copy()
            y[i] = bad
            for threads in (1, 2):
                with num_threads(threads):
                    assert _core.all_finite(y) is False, (bad, i, threads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_finite_values_are_finite(dtype):
    info = np.finfo(dtype)
    x = np.array([info.max, -info.max, info.tiny, info.smallest_subnormal, -0.0, 0.0],
                 dtype=dtype)
    assert _core.all_finite(np.tile(x, 3000).reshape(-1, 6)) is True


def test_rejects_what_it_cannot_read():
    with pytest.raises(TypeError, match="x"):
        _core.all_finite(np.zeros(4, np.int32))
    with pytest.raises(ValueError, match="x"):
        _core.all_finite(np.zeros((4, 4), np.float32)[:, ::2])
