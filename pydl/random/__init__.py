"""Random draws as `keras.random`: `normal`, `uniform`, `truncated_normal`, `randint`,
`categorical`, `dropout`, `shuffle`, and `SeedGenerator`.

    x = pydl.random.normal((2, 3))                  # pydl's global generator
    y = pydl.random.uniform((2, 3), seed=7)         # the same values at every call
    gen = pydl.random.SeedGenerator(1337)
    z = pydl.random.normal((2, 3), seed=gen)        # new values at every call

`pydl.utils.set_random_seed(s)` makes the unseeded draws reproducible.
"""

from .draws import categorical, dropout, normal, randint, shuffle, truncated_normal, uniform
from .seed_generator import SeedGenerator

__all__ = ["SeedGenerator", "categorical", "dropout", "normal", "randint", "shuffle",
           "truncated_normal", "uniform"]
