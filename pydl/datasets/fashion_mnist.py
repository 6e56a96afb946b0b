"""Fashion-MNIST: 60,000 + 10,000 28x28 grayscale images of 10 kinds of clothing.

    (x_train, y_train), (x_test, y_test) = pydl.datasets.fashion_mnist.load_data()

The same arrays as `keras.datasets.fashion_mnist`: the four gzipped IDX files
Keras downloads, into ``~/.pydl/datasets/fashion-mnist`` (or under
``$PYDL_HOME``), each checked against the SHA-256 published for it (the
Fashion-MNIST project's files, as TensorFlow Datasets lists them; Keras
itself checks none).
"""

from __future__ import annotations

from . import _files
from .mnist import read_idx

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SUBDIR = "fashion-mnist"
FILES = {  # name: SHA-256
    "train-labels-idx1-ubyte.gz":
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz":
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz":
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz":
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")


def load_data() -> _files.Splits:
    """Loads Fashion-MNIST as Keras 3 does: ``((x_train, y_train), (x_test, y_test))``.

    Returns:
        x arrays uint8 of shape (N, 28, 28); y arrays uint8 of shape (N,), labels 0..9
        (`CLASS_NAMES` names them).
    """
    arrays = {}
    for name, sha256 in FILES.items():
        arrays[name] = read_idx(_files.get_file(name, ORIGIN + name, sha256, subdir=SUBDIR))
    splits = []
    for prefix in ("train", "t10k"):
        x, y = arrays[f"{prefix}-images-idx3-ubyte.gz"], arrays[f"{prefix}-labels-idx1-ubyte.gz"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"fashion-mnist {prefix}: expected images (N, 28, 28) and labels "
                             f"(N,), received {x.shape} and {y.shape}")
        splits.append((x, y))
    return tuple(splits)
