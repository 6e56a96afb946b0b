"""Training on many processes: data parallelism over MPI (Keras 3's ``keras.distribution``
names).

    pip install "pydl[mpi]"                  # mpi4py + the mpich MPI library
    mpiexec -n 4 python train.py             # or, under Slurm: srun -n 4 python train.py

    from pydl import distribution
    distribution.initialize()                # joins the MPI world (a world of one without mpiexec)
    distribution.set_distribution(distribution.DataParallel())
    model.fit(x, y, batch_size=256, epochs=5)   # batch_size is the GLOBAL batch

Every process builds the same model and passes the same data (or its own shard with
``DataParallel(auto_shard_dataset=False)``); fit starts from rank 0's weights and
optimizer state, each process computes its rows of every global batch, one Allreduce
sums the gradients, and all processes end every step with bitwise identical weights.
Logs and callbacks' decisions are the same on every process; the progress bar,
checkpoints, CSV logs and ``model.save`` are written by rank 0. docs/distributed.md
says how it works and what it costs.

Helpers: ``rank()``, ``size()``, ``is_chief()``, ``barrier()``, ``allreduce(array,
op="sum"|"mean")``, ``broadcast(array, root=0)``, ``broadcast_weights(model, root=0)``.
A plain ``python train.py`` is a world of one process: the same code runs, without MPI.
"""

from .collectives import allreduce, broadcast, broadcast_weights
from .data_parallel import DataParallel, distribution, set_distribution
from .world import barrier, initialize, is_chief, rank, size

__all__ = ["DataParallel", "allreduce", "barrier", "broadcast", "broadcast_weights",
           "distribution", "initialize", "is_chief", "rank", "set_distribution", "size"]
