"""The benchmark tables say what they measure: the "% of" columns divide by an honest
reference, predict reports no invented target, and the shared timing helper leaves a
broken competitor out instead of losing the others. Built from synthetic records, so
nothing here times anything."""

from __future__ import annotations

import re

import pytest

from benchmarks import machine
from benchmarks.results import Run
from benchmarks.settings import MNIST_SIZES, Net, make_settings
from benchmarks.workloads import common, gemm, predict

ESTIMATE = {"gflops_per_core": 83.2, "flops_per_cycle": 32, "clock_mhz": 2600.0,
            "clock_is_max": False, "derivation": "ESTIMATE 2.60 GHz x 32 = 83 GFLOP/s per core"}
SHAPES = [(256, 256, 256), (128, 784, 512)]


def make_run(mode: str = "smoke", threads=(1, 2)) -> Run:
    return Run(make_settings(mode, list(threads)), {"peak": dict(ESTIMATE)}, "test")


def add_gemm(run: Run, threads: int, rates: dict[str, float]) -> None:
    for shape in SHAPES:
        for name, rate in rates.items():
            run.add(gemm.WORKLOAD, common.shape_label(*shape), threads, name, value=rate,
                    unit="GFLOP/s", correct=True)


def percents(table) -> list[float]:
    return [float(cell[:-1]) for row in table.rows for cell in row if re.fullmatch(r"[\d.]+%", cell)]


def test_estimate_above_every_measurement_is_the_peak():
    ref = machine.peak_reference(ESTIMATE, 70.0)
    assert ref["source"] == "estimate" and ref["gflops_per_core"] == ESTIMATE["gflops_per_core"]
    assert ref["label"] == "peak (est.)"
    assert "ESTIMATE" in ref["line"] and "70" in ref["line"]
    assert machine.peak_reference(ESTIMATE, None)["source"] == "estimate"


def test_measurement_above_the_estimate_replaces_it_and_says_so():
    ref = machine.peak_reference(ESTIMATE, 102.0)
    assert ref["source"] == "measured" and ref["gflops_per_core"] == 102.0
    assert ref["label"] == "best GEMM"
    # The line keeps the estimate's derivation, names the measured rate and the clock it implies.
    assert "ESTIMATE" in ref["line"] and "102" in ref["line"] and "3.19 GHz" in ref["line"]


def test_gemm_table_never_prints_more_than_100_percent_of_its_reference():
    run = make_run()
    add_gemm(run, 1, {"NumPy": 98.0, "pydl": 102.0})  # above the 83 GFLOP/s estimate
    add_gemm(run, 2, {"NumPy": 176.0, "pydl": 180.0})
    tables = [gemm.table(run, SHAPES, t) for t in (1, 2)]
    for table in tables:
        assert "pydl % of best GEMM" in table.headers and "NumPy % of best GEMM" in table.headers
        assert not any("of peak" in h for h in table.headers)
        assert percents(table) and max(percents(table)) <= 100.0
        assert any("fastest GEMM" in note for note in table.notes)
    assert "100%" in tables[0].rows[0]  # pydl's 102 is the best: exactly 100%
    # The machine line in the report agrees with the tables.
    peak_line = [line for line in machine.summary_lines(_full_machine(run)) if "Peak" in line]
    assert len(peak_line) == 1 and "% of best GEMM" in peak_line[0]


def test_gemm_table_uses_the_estimate_when_it_is_above_every_rate():
    run = make_run()
    add_gemm(run, 1, {"NumPy": 60.0, "pydl": 66.56})
    table = gemm.table(run, SHAPES, 1)
    assert "pydl % of peak (est.)" in table.headers
    assert "80%" in table.rows[0]  # 66.56 / 83.2
    assert any("ESTIMATED peak" in note for note in table.notes)


def test_a_wrong_gemm_result_does_not_become_the_reference():
    run = make_run()
    add_gemm(run, 1, {"NumPy": 60.0})
    run.add(gemm.WORKLOAD, common.shape_label(*SHAPES[0]), 1, "pydl", value=500.0,
            unit="GFLOP/s", correct=False)
    table = gemm.table(run, SHAPES, 1)
    assert "pydl % of peak (est.)" in table.headers
    assert any("WRONG" in note for note in table.notes)


def _full_machine(run: Run) -> dict:
    return {"cpu": "test cpu", "cores": 2, "pydl": {"simd": "avx2", "simd_compiled": ["avx2"],
                                                  "openmp": True},
            "python": "3", "numpy": "2", "blas": "openblas", "date_utc": "now",
            "blas_threads": "controlled", **run.machine}


def test_predict_table_has_the_ratio_but_no_invented_target_and_explains_batch_1():
    run = make_run("quick", threads=(1,))
    latencies = {"NumPy": 62.0, "pydl predict": 54.0, "torch": 96.0}
    for batch, scale in ((1, 1.0), (128, 25.0)):
        for name, us in latencies.items():
            run.add(predict.WORKLOAD, f"batch {batch}", 1, name, value=us * scale, unit="us")
    table = predict.table(run, 1)
    assert "target" not in " ".join(table.headers).lower()
    assert "torch / pydl predict" in table.headers
    assert table.rows[0][-1] == "1.8x"  # 96 / 54
    note = next(n for n in table.notes if n.startswith("Batch 1"))
    nbytes = 4 * (784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10)  # kernels + biases
    assert Net(MNIST_SIZES, "mse", "sgd", 1, 1).weight_bytes == nbytes
    assert "2.14 MB" in note and "streaming the weights" in note
    assert f"{nbytes / 54e-6 / 1e9:.1f} GB/s" in note  # weight bytes / pydl's latency


def test_time_competitors_leaves_a_broken_one_out_and_times_the_rest():
    run = make_run()
    calls = []
    makers = {"good": lambda: (lambda: calls.append(1) or 3),
              "raises": lambda: (lambda: 1 / 0),
              "bad output": lambda: (lambda: -1),
              "unbuildable": lambda: [][0]}

    def check(result):
        if result != 3:
            raise ValueError(f"result: expected 3, received {result}")

    timings = common.time_competitors(run, makers, 1, "on the test case", check)
    assert list(timings) == ["good"] and timings["good"].median_s >= 0
    assert len(calls) >= 2  # the warm-up call and at least one timed one
    reported = "\n".join(run.unavailable)
    assert "raises on the test case: not available yet: ZeroDivisionError" in reported
    assert "bad output on the test case: not available yet: ValueError" in reported
    assert "unbuildable on the test case: not available yet: IndexError" in reported


def test_record_timings_writes_one_record_per_competitor():
    run = make_run()
    timings = common.time_competitors(run, {"a": lambda: (lambda: None)}, 1, "x")
    common.record_timings(run, "w", "case", 1, timings, "us", value=lambda s: s * 1e6,
                          extra=lambda name, v: {"doubled": 2 * v})
    record = run.find("w", "case", 1, "a")
    assert record["value"] == pytest.approx(record["median_s"] * 1e6)
    assert record["doubled"] == pytest.approx(2 * record["value"])
    assert record["unit"] == "us" and len(record["samples_s"]) == run.settings.repeats


def test_distributed_projection_formulas():
    from benchmarks.workloads import distributed

    # 100 MB over 25 GbE on 8 nodes: 2 * 7 / 8 * 1e8 / 3.125e9 s + 14 * 25 us
    t = distributed.ring_allreduce_seconds(1e8, 8, 25e9 / 8)
    assert abs(t - (1.75 * 0.032 + 14 * 25e-6)) < 1e-12
    rate = 1000.0  # samples/s of one node
    b = distributed.batch_for(rate, t)
    assert abs(distributed.efficiency(rate, b, t) - 0.9) < 1e-12
    table = distributed.projection_table([("net", rate, 1e8, 256)])
    assert len(table.rows) == len(distributed.LINKS)
    assert table.rows[1][:2] == ["net", "25 GbE"] and table.rows[1][3] == f"{1e3 * t:.2f} ms"
