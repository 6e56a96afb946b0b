"""pydl benchmarks: one command, markdown tables, JSON, charts.

    python -m benchmarks                     # full run (several minutes)
    python -m benchmarks --quick             # about a minute or two
    python -m benchmarks --threads 1 --only gemm,train --out benchmarks/results
    python benchmarks/run.py --quick         # the same
    python -m benchmarks --profile --quick   # where pydl's fit spends its time

    python -m benchmarks --only contention   # quiet vs busy machine, in-process interplay
    python -m benchmarks --only contention --compare "main=../main-venv/bin/python"
    python -m benchmarks --only contention --keras-tf-python ../tf-venv/bin/python

Workloads: gemm, dense, train, predict, scaling, memory, norm (BatchNormalization /
LayerNormalization forward + backward), text (Embedding text classifier), bn
(784-512-BN-256-BN-10 training against the network without BN), sklearn (one
GridSearchCV through pydl's scikit-learn wrapper, scikit-learn's MLPClassifier and Keras'
wrapper), distributed (data-parallel fit: 1 process x 2 threads against 2 processes x 1
thread, over MPI), graph, contention (quiet vs 1 and 2 busy processes, Keras on
TensorFlow among the competitors; pydl's matmuls next to NumPy's and torch's), bf16
(bfloat16 GEMM vs float32 and % of the measured bf16 peak; mixed_bfloat16 training vs
float32 and torch.autocast). Competitors: pydl, the NumPy baseline
(benchmarks/numpy_mlp.py), PyTorch eager and torch.compile when installed, a jitted JAX step
when JAX is installed; --compare adds other pydl builds.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.append(str(Path(__file__).resolve().parents[1]))  # after site-packages: the
    # repository's pydl/ source folder must not shadow the installed package
    __package__ = "benchmarks"  # noqa: A001

from benchmarks import machine, report  # noqa: E402
from benchmarks.results import Run  # noqa: E402
from benchmarks.settings import make_settings  # noqa: E402
from benchmarks.threads import all_cores  # noqa: E402
from benchmarks.other_builds import OtherBuild, parse_spec  # noqa: E402
from benchmarks.workloads import (batchnorm, bf16, contention, dense,  # noqa: E402
                                  distributed, gemm, graph, memory, normalization, predict,
                                  scaling, sklearn_search, text, train)

WORKLOADS = {"gemm": gemm, "dense": dense, "train": train, "predict": predict,
             "scaling": scaling, "memory": memory, "norm": normalization, "text": text,
             "sklearn": sklearn_search, "graph": graph, "bn": batchnorm,
             "distributed": distributed, "contention": contention, "bf16": bf16}


def _thread_counts(text: str | None) -> list[int]:
    if text is None:
        return sorted({1, all_cores()})
    try:
        counts = sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--threads: expected integers such as 1 or 1,2, received {text!r}") from None
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"--threads: expected counts >= 1, received {text!r}")
    return counts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer steps: about a minute")
    mode.add_argument("--smoke", action="store_true",
                      help="tiny shapes, 1 repeat: checks the harness runs, times nothing useful")
    parser.add_argument("--threads", type=str, default=None,
                        help="comma-separated thread counts (default: 1 and all cores)")
    parser.add_argument("--only", type=str, default=None,
                        help=f"comma-separated workloads among {','.join(WORKLOADS)}")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for results.json, results.md, README_table.md, PNGs")
    parser.add_argument("--profile", action="store_true",
                        help="instead of timing, print a cProfile of pydl's fit per network")
    parser.add_argument("--no-charts", action="store_true", help="write no PNG charts")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    compile_flag = parser.add_mutually_exclusive_group()
    compile_flag.add_argument("--no-torch-compile", action="store_true",
                              help="leave torch.compile out (full runs include it)")
    compile_flag.add_argument("--torch-compile", action="store_true",
                              help="include torch.compile in --quick (about 1-2 minutes of "
                                   "compiling per model and thread count on 2 cores)")
    parser.add_argument("--no-jax", action="store_true", help="leave JAX out")
    parser.add_argument("--keras-tf-python", type=str, default=None, metavar="PYTHON",
                        help="an interpreter with tensorflow installed, for the Keras/TF "
                             "competitor of the contention workload (default: this one, "
                             "when it can import tensorflow)")
    parser.add_argument("--no-keras-tf", action="store_true",
                        help="leave Keras/TF out of the contention workload")
    parser.add_argument("--compare", action="append", default=[], metavar="SPEC",
                        help="another pydl build as a competitor 'pydl@LABEL' of the gemm, "
                             "train and contention workloads: 'LABEL=PYTHON [VAR=VALUE ...]' "
                             "(an interpreter with that build installed, and environment "
                             "variables for it); repeatable")
    args = parser.parse_args(argv)
    try:
        args.compare = [parse_spec(text) for text in args.compare]
    except ValueError as exc:
        parser.error(str(exc))
    try:
        args.threads = _thread_counts(args.threads)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    names = list(WORKLOADS) if args.only is None else [w.strip() for w in args.only.split(",")
                                                       if w.strip()]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown or not names:
        parser.error(f"--only: expected names among {','.join(WORKLOADS)}, received {args.only!r}")
    args.only = names
    if args.keras_tf_python is not None and not Path(args.keras_tf_python).exists():
        parser.error(f"--keras-tf-python: no interpreter at {args.keras_tf_python!r}")
    return args


def main(argv: list[str] | None = None) -> Run:
    args = parse_args(argv)
    settings = make_settings("smoke" if args.smoke else "quick" if args.quick else "full",
                             args.threads)
    settings.use_torch = not args.no_torch
    if args.torch_compile:
        settings.use_torch_compile = True
    if args.no_torch_compile:
        settings.use_torch_compile = False
    settings.use_jax = not args.no_jax
    settings.use_keras_tf = not args.no_keras_tf
    settings.keras_tf_python = args.keras_tf_python
    settings.compare = args.compare
    shown = sys.argv[1:] if argv is None else argv
    command = "python -m benchmarks" + (" " + shlex.join(shown) if shown else "")
    run = Run(settings, machine.describe(settings.use_torch, settings.use_jax), command)
    run.others = [OtherBuild(spec) for spec in settings.compare]
    for build in run.others:
        run.machine.setdefault("compared_builds", {})[build.name] = {
            "python": build.spec.python, "env": build.spec.env, "config": build.config()}
    print("\n".join(["# pydl benchmarks", "", f"    {command}", ""]
                    + machine.summary_lines(run.machine)) + "\n", flush=True)
    if settings.use_torch and not settings.use_torch_compile:
        run.unavailable.append("torch.compile columns: left out of this run (--quick and "
                               "--no-torch-compile leave it out; --torch-compile adds it)")
    started = time.perf_counter()
    if args.profile:
        from benchmarks.profile import run_profile

        for build in run.others:
            build.close()
        text = run_profile(run)
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "profile.md").write_text(text)
        return run
    try:
        for name in args.only:
            WORKLOADS[name].run_workload(run)
    finally:
        for build in run.others:
            build.close()
    print(f"Done in {time.perf_counter() - started:.0f} s.", flush=True)
    if args.out is not None:
        for path in report.write(run, args.out, charts=not args.no_charts):
            print(f"wrote {path}")
    return run


if __name__ == "__main__":
    main()
