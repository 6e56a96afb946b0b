"""The bf16 workload's tables (benchmarks/workloads/bf16.py) from synthetic records: the
percent of the probe's peak, the bf16 / float32 ratio against the 1.7x target, the training
targets and the comparison with torch autocast. Nothing here times anything."""

from __future__ import annotations

from benchmarks.results import Run
from benchmarks.settings import MNIST_SIZES, WIDE_SIZES, Net, make_settings
from benchmarks.workloads import bf16
from benchmarks.workloads.common import shape_label

SHAPES = [(1024, 1024, 1024), (256, 4096, 4096)]
NETS = [Net(WIDE_SIZES, "mse", "sgd", 256, 2), Net(MNIST_SIZES, "sparse_categorical_crossentropy",
                                                   "sgd", 128, 15)]


def run_with(gemm_rates: dict, train_rates: dict, threads: int = 1) -> Run:
    run = Run(make_settings("smoke", [threads]), {"peak": {}}, "test")
    run.add(bf16.WORKLOAD, "peak", 1, "bf16 peak", value=200.0)
    run.add(bf16.WORKLOAD, "peak", 1, "bf16 peak", value=230.0)  # the best probe counts
    run.add(bf16.WORKLOAD, "peak", 1, "float32 peak", value=115.0)
    for shape in SHAPES:
        for name, rate in gemm_rates.items():
            run.add(bf16.WORKLOAD, shape_label(*shape), threads, name, value=rate, correct=True)
    for net in NETS:
        for name, rate in train_rates.items():
            run.add(bf16.WORKLOAD, net.label, threads, name, value=rate[net.sizes],
                    loss_finite=True)
    return run


def test_gemm_table_percent_of_the_probe_peak_and_target():
    run = run_with({"pydl float32": 100.0, "pydl bf16": 184.0}, {})
    table = bf16.gemm_table(run, SHAPES, 1, "0.50")
    row = table.rows[0]
    assert row[3] == "1.84x" and row[4] == "80%" and row[5] == "87%"
    assert row[6] == ">= 1.7x: met"
    assert any("230" in note and "VDPBF16PS" in note for note in table.notes)
    slow = bf16.gemm_table(run_with({"pydl float32": 100.0, "pydl bf16": 150.0}, {}),
                           SHAPES, 1, "0.5")
    assert slow.rows[0][6].startswith(">= 1.7x: missed by 12%")
    two = bf16.gemm_table(run_with({"pydl float32": 200.0, "pydl bf16": 368.0}, {}, threads=2),
                          SHAPES, 2, "0.5")
    assert two.rows[0][4] == "80%"  # of 2 x the one-core peak


def test_train_table_targets_and_torch_autocast():
    rates = {"pydl float32": {WIDE_SIZES: 600.0, MNIST_SIZES: 40000.0},
             "pydl mixed_bfloat16": {WIDE_SIZES: 1000.0, MNIST_SIZES: 50000.0},
             "torch float32": {WIDE_SIZES: 590.0, MNIST_SIZES: 32000.0},
             "torch autocast bf16": {WIDE_SIZES: 950.0, MNIST_SIZES: 52000.0}}
    table = bf16.train_table(run_with({}, rates), NETS, 1, "0.5")
    wide, mnist = table.rows
    assert wide[5] == "1.67x" and wide[-1] == ">= 1.5x float32: met; vs torch autocast: ahead"
    assert mnist[5] == "1.25x" and mnist[-1].startswith(">= 1.3x float32: missed by 4%")
    assert mnist[-1].endswith("vs torch autocast: behind")
