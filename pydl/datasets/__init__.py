"""Small datasets for examples and tests: `mnist` (IDX/npz files, downloaded once) and `digits` (bundled)."""

from . import digits, mnist

__all__ = ["digits", "mnist"]
