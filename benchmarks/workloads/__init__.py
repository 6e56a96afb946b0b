"""One module per workload; each exposes run(run: results.Run)."""
