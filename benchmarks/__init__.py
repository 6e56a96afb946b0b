"""pydl's benchmarks against a NumPy baseline (and PyTorch, JAX when installed).

Run ``python -m benchmarks --help``. The NumPy baseline is ``benchmarks.numpy_mlp``.
"""
