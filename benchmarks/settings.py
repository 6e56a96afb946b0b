"""What each mode measures: shapes, networks, repeats, steps."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Net:
    """A training workload: Dense widths, loss, optimizer, batch size, steps per sample."""

    sizes: tuple[int, ...]
    loss: str  # "sparse_categorical_crossentropy" (softmax head) or "mse" (linear head)
    optimizer: str  # "sgd" (momentum 0.9) or "adam"
    batch: int
    steps: int  # training steps in one timed sample (one epoch of steps * batch samples)
    learning_rate: float = 0.01

    @property
    def name(self) -> str:
        return "-".join(str(n) for n in self.sizes)

    @property
    def label(self) -> str:
        loss = "softmax-CE" if self.loss != "mse" else "MSE"
        opt = "SGD-momentum" if self.optimizer == "sgd" else "Adam"
        return f"{self.name} {loss} {opt} b{self.batch}"

    @property
    def weight_bytes(self) -> int:
        """float32 bytes of the Dense kernels and biases (what one forward pass reads)."""
        return 4 * sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def flops_per_sample(self) -> int:
        """6 FLOPs per weight per sample: forward 2, backward 4 (dW and dx)."""
        return 6 * sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))


@dataclass
class Settings:
    mode: str  # "full", "quick" or "smoke"
    threads: list[int]
    repeats: int
    min_sample_s: float  # short calls are looped until one sample lasts this long
    gemm_shapes: list[tuple[int, int, int]]  # (M, K, N): (M x K) @ (K x N)
    dense_shapes: list[tuple[int, int, int]]  # (batch, in, out)
    nets: list[Net]
    predict_batches: list[int]
    memory_samples: int
    memory_epochs: int
    # Layers beyond Dense: normalization forward+backward shapes (batch, features) and the
    # Embedding -> GlobalAveragePooling1D -> Dense(1) text classifier.
    norm_shapes: list[tuple[int, int]] = field(default_factory=lambda: [(256, 1024)])
    text_model: dict = field(default_factory=lambda: dict(TEXT_MODEL))
    # 784-512-BN-256-BN-10 against 784-512-256-10 (benchmarks/workloads/batchnorm.py).
    bn_model: dict = field(default_factory=lambda: dict(BN_MODEL))
    settle_s: float = 0.12  # pause before each sample at > 1 thread (see timing.py)
    # The contention workload: large GEMMs timed quiet and busy, and the shapes of the
    # in-process interplay (pydl's matmul alternating with NumPy's and torch's).
    contention_gemms: list[tuple[int, int, int]] = field(default_factory=list)
    interplay_gemms: list[tuple[int, int, int]] = field(default_factory=list)
    compare: list = field(default_factory=list)  # other pydl builds (other_builds.BuildSpec)
    # The bf16 workload (issue 16): its GEMMs (M, K, N) and networks.
    bf16_gemms: list[tuple[int, int, int]] = field(default_factory=list)
    bf16_nets: list[Net] = field(default_factory=list)
    use_torch: bool = True
    use_torch_compile: bool = True
    use_jax: bool = True
    # Keras 3 on TensorFlow in the contention workload (benchmarks/keras_tf.py): the
    # interpreter that runs it (None: this one, when it can import tensorflow).
    use_keras_tf: bool = True
    keras_tf_python: str | None = None
    notes: list[str] = field(default_factory=list)


SQUARES = [(n, n, n) for n in (256, 512, 1024, 2048)]
MLP_SHAPES = [(128, 784, 512), (128, 512, 256), (32, 64, 32), (256, 4096, 4096)]

TEXT_MODEL = {"vocab": 20000, "dim": 128, "length": 200, "batch": 128, "steps": 16}
BN_MODEL = {"batch": 128, "steps": 60, "optimizers": ("sgd", "adam")}
# The large GEMMs of the contention workload, and the interplay shapes (issue 17).
CONTENTION_GEMMS = [(1024, 1024, 1024), (256, 4096, 4096)]
INTERPLAY_GEMMS = [(256, 1024, 1024), (256, 4096, 4096)]

MNIST_SIZES = (784, 512, 256, 10)
SMALL_SIZES = (64, 32, 10)
WIDE_SIZES = (1024, 4096, 4096, 1024)


def _nets(mnist_steps: int, small_steps: int, wide_steps: int) -> list[Net]:
    ce = "sparse_categorical_crossentropy"
    return [
        Net(MNIST_SIZES, ce, "sgd", 128, mnist_steps),
        Net(MNIST_SIZES, ce, "adam", 128, mnist_steps, learning_rate=0.001),
        Net(SMALL_SIZES, ce, "sgd", 32, small_steps),
        Net(WIDE_SIZES, "mse", "sgd", 256, wide_steps, learning_rate=0.001),
    ]


BF16_GEMMS = [(1024, 1024, 1024), (256, 4096, 4096)]


def _bf16_nets(wide_steps: int, mnist_steps: int) -> list[Net]:
    ce = "sparse_categorical_crossentropy"
    return [Net(WIDE_SIZES, "mse", "sgd", 256, wide_steps, learning_rate=0.001),
            Net(MNIST_SIZES, ce, "sgd", 128, mnist_steps)]


def make_settings(mode: str, threads: list[int]) -> Settings:
    if mode == "full":
        return Settings(mode, threads, repeats=7, min_sample_s=0.2,
                        gemm_shapes=SQUARES + MLP_SHAPES, dense_shapes=SQUARES + MLP_SHAPES,
                        nets=_nets(mnist_steps=60, small_steps=1000, wide_steps=4),
                        predict_batches=[1, 128], memory_samples=60000, memory_epochs=3,
                        contention_gemms=[(2048, 2048, 2048)] + CONTENTION_GEMMS,
                        interplay_gemms=INTERPLAY_GEMMS,
                        bf16_gemms=BF16_GEMMS, bf16_nets=_bf16_nets(wide_steps=4, mnist_steps=60))
    if mode == "quick":
        return Settings(mode, threads, repeats=5, min_sample_s=0.03,
                        gemm_shapes=SQUARES + MLP_SHAPES,
                        # The 2048 square and the 4096-wide layer take seconds a call.
                        dense_shapes=SQUARES[:3] + MLP_SHAPES[:3],
                        nets=_nets(mnist_steps=15, small_steps=200, wide_steps=1),
                        predict_batches=[1, 128], memory_samples=8192, memory_epochs=3,
                        text_model=dict(TEXT_MODEL, steps=8), bn_model=dict(BN_MODEL, steps=15),
                        contention_gemms=CONTENTION_GEMMS, interplay_gemms=INTERPLAY_GEMMS,
                        bf16_gemms=BF16_GEMMS, bf16_nets=_bf16_nets(wide_steps=2, mnist_steps=15),
                        use_torch_compile=False)
    if mode == "smoke":
        ce = "sparse_categorical_crossentropy"
        return Settings(mode, threads, repeats=1, min_sample_s=0.0,
                        gemm_shapes=[(16, 16, 16), (8, 24, 8)], dense_shapes=[(8, 24, 8)],
                        nets=[Net((12, 8, 3), ce, "sgd", 4, 2), Net((12, 8, 3), ce, "adam", 4, 2),
                              Net((12, 16, 6), "mse", "sgd", 4, 2)],
                        predict_batches=[1, 4], memory_samples=64, memory_epochs=2,
                        norm_shapes=[(8, 16)],
                        text_model={"vocab": 50, "dim": 8, "length": 10, "batch": 4, "steps": 2},
                        bn_model={"batch": 4, "steps": 2, "optimizers": ("sgd",)},
                        contention_gemms=[(16, 16, 16)], interplay_gemms=[(8, 24, 8)],
                        bf16_gemms=[(16, 16, 16)],
                        bf16_nets=[Net((12, 16, 6), "mse", "sgd", 4, 2),
                                   Net((12, 8, 3), ce, "sgd", 4, 2)],
                        settle_s=0.0, use_torch_compile=False)
    raise ValueError(f"mode: expected full, quick or smoke, received {mode!r}")
