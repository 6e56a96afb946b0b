"""pydl: Keras-style deep learning for CPUs, with a C++ core (threads, SIMD).

    import pydl as keras
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=128)
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("pydl")
except _PackageNotFoundError:  # running from a source tree without metadata
    __version__ = "0.0.0+unknown"

from . import _config

_config._init()

from ._config import get_num_threads, set_num_threads, show_config  # noqa: E402
from . import backend, utils  # noqa: E402
from . import callbacks, datasets, distribution, losses, metrics, optimizers  # noqa: E402
from . import activations, initializers, layers, ops, random, testing  # noqa: E402
from .variable import Variable  # noqa: E402
from .tape import GradientTape  # noqa: E402
from . import models, regularizers, saving  # noqa: E402
from . import config, dtype_policies, mixed_precision  # noqa: E402
from .dtype_policies import DTypePolicy  # noqa: E402
from .models import Model, Sequential  # noqa: E402
from .layers import Input, KerasTensor  # noqa: E402


def __getattr__(name):
    # pydl.wrappers imports scikit-learn: loaded on first use, not by `import pydl`.
    if name == "wrappers":
        import importlib

        return importlib.import_module(".wrappers", __name__)
    raise AttributeError(f"module 'pydl' has no attribute {name!r}")
