"""Per-op cost of pydl's GradientTape against PyTorch autograd (issue 4).

    python -m benchmarks.tape_overhead [--repeats 7]

Measures, interleaved in one process, medians over repeats of many calls:
- one recorded op: `a + b` on (4, 4) float32 inside a tape (torch: requires_grad);
- the same op with no tape (pure dispatch cost);
- forward + backward of a 10-op chain on (4, 4), per op.
Tiny arrays make the arithmetic negligible: what is timed is bookkeeping.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import pydl


def per_call(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def pydl_cases():
    a = pydl.Variable(np.ones((4, 4), np.float32))
    b = pydl.Variable(np.ones((4, 4), np.float32))
    plain_a, plain_b = pydl.ops.add(a, 0.0), pydl.ops.add(b, 0.0)  # Tensors off any tape

    def recorded():
        with pydl.GradientTape():
            pydl.ops.add(a, b)

    def chain():
        with pydl.GradientTape() as tape:
            y = a
            for _ in range(5):
                y = y * b
                y = y + a
            loss = pydl.ops.sum(y)
        tape.gradient(loss, [a, b])

    def empty_tape():
        with pydl.GradientTape():
            pass

    return {"tape": empty_tape, "recorded add": recorded, "untaped add": lambda: plain_a + plain_b,
            "chain fwd+bwd": chain}


def torch_cases(torch):
    a = torch.ones((4, 4), requires_grad=True)
    b = torch.ones((4, 4), requires_grad=True)
    pa, pb = torch.ones((4, 4)), torch.ones((4, 4))

    def chain():
        y = a
        for _ in range(5):
            y = y * b
            y = y + a
        y.sum().backward()

    return {"tape": lambda: None, "recorded add": lambda: a + b, "untaped add": lambda: pa + pb,
            "chain fwd+bwd": chain}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    competitors = {"pydl": pydl_cases()}
    try:
        import torch

        torch.set_num_threads(1)
        competitors["torch"] = torch_cases(torch)
    except ImportError:
        pass
    pydl.set_num_threads(1)
    samples = {(c, k): [] for c in competitors for k in competitors[c]}
    for _ in range(args.repeats):  # interleaved: every case once per round
        for comp, cases in competitors.items():
            for name, fn in cases.items():
                fn()  # warm
                samples[(comp, name)].append(per_call(fn, args.calls))
    print("| case | " + " | ".join(f"{c} (us)" for c in competitors) + " |")
    print("|---|" + "---|" * len(competitors))
    for name in competitors["pydl"]:
        row = []
        for comp in competitors:
            med = statistics.median(samples[(comp, name)]) * 1e6
            if name == "recorded add" and comp == "pydl":
                med -= statistics.median(samples[("pydl", "tape")]) * 1e6  # the op alone
            if name == "chain fwd+bwd":
                med /= 11  # per op: 10 elementwise + sum
            row.append(f"{med:.2f}")
        label = {"tape": "enter+exit an empty tape", "recorded add": "one recorded op (add, 4x4)",
                 "untaped add": "same op, no tape", "chain fwd+bwd": "chain fwd+bwd, per op"}[name]
        print(f"| {label} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
