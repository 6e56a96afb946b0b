"""``DataParallel``, ``set_distribution`` and ``distribution``: Keras 3's names for
training one model on many processes.

    from pydl import distribution
    distribution.set_distribution(distribution.DataParallel())
    model.fit(x, y, batch_size=256)          # 256 samples per step, all processes together

With an active DataParallel over several processes, ``fit``, ``evaluate``,
``train_on_batch`` and ``test_on_batch`` run as one call of every process
(replicas.py), and ``Optimizer.apply_gradients`` sums its gradients over the
processes (gradients.py), so that a custom GradientTape loop is data-parallel too.
In a world of one process DataParallel changes nothing and needs no MPI.
"""

from __future__ import annotations

import contextlib
import inspect

from . import world
from .gradients import reducer_for
from .output import muted_stdout

_current = [None]


class DataParallel:
    """Data parallelism over the processes of the MPI world (Keras 3's name).

    Every process holds the whole model; each step, every process computes its rows of
    the global batch (``batch_size`` is global), the gradients are summed over the
    processes (one Allreduce), and every process applies the same update: all end
    each step with bitwise identical weights.

    Args:
        device_mesh: not used by pydl (a process is a replica); must be None.
        devices: not used by pydl; must be None.
        auto_shard_dataset: True (default): every process passes the same data and
            computes its slice of each global batch. False: each process passes its own
            shard; an epoch is ``ceil(N / batch_size)`` steps, N the total over the
            processes, and each process moves through its own shard at that pace
            (pydl/distribution/shards.py).

    Raises:
        ImportError: started by an MPI launcher with several processes, and mpi4py
            (the ``pydl[mpi]`` extra) is missing.
    """

    batch_dim_name = "batch"

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        for name, value in (("device_mesh", device_mesh), ("devices", devices)):
            if value is not None:
                raise ValueError(
                    f"DataParallel: {name} is not used by pydl, whose replicas are the "
                    "processes an MPI launcher starts (mpiexec -n N python train.py); leave it "
                    f"None. Received: {name}={value!r}")
        if not isinstance(auto_shard_dataset, bool):
            raise ValueError("DataParallel: auto_shard_dataset must be True or False. Received: "
                             f"auto_shard_dataset={auto_shard_dataset!r}")
        self.auto_shard_dataset = auto_shard_dataset
        world.initialize()
        comm = world.comm()
        self._reducer = reducer_for(comm) if comm is not None else None

    @property
    def num_model_replicas(self) -> int:
        """The number of processes, each holding one replica of the model."""
        return world.size()

    @contextlib.contextmanager
    def scope(self):
        """This distribution is the active one within the block (Keras 3)."""
        previous = _current[0]
        set_distribution(self)
        try:
            yield self
        finally:
            set_distribution(previous)

    def _run_call(self, model, method, args, kwargs):
        """Runs the Trainer call `method` as one call of every process (replicas.py)."""
        from .replicas import Replicas

        bound = inspect.signature(method).bind(model, *args, **kwargs)
        bound.apply_defaults()
        session = Replicas(self, model, method.__name__, dict(bound.arguments))
        with muted_stdout(session.rank != 0):
            object.__setattr__(model, "_replicas", session)
            try:
                return method(model, *args, **kwargs)
            except BaseException as error:
                session.fail(error)
                raise
            finally:
                model.__dict__.pop("_replicas", None)  # the class's: one process
                session.close()

    def __repr__(self) -> str:
        return (f"<DataParallel processes={self.num_model_replicas} "
                f"auto_shard_dataset={self.auto_shard_dataset}>")


def set_distribution(value) -> None:
    """Makes `value` (a DataParallel, or None for none) the distribution fit uses."""
    from ..models import replicas as model_replicas
    from ..optimizers import optimizer as optimizer_module

    if value is not None and not isinstance(value, DataParallel):
        raise TypeError("set_distribution: expected a pydl.distribution.DataParallel or None. "
                        f"Received: {type(value).__name__}")
    _current[0] = value
    spans = value is not None and value.num_model_replicas > 1
    model_replicas.set_distribution(value if spans else None)
    optimizer_module._gradient_reducer[0] = value._reducer.reduce_pairs if spans else None


def distribution():
    """The active distribution (set by set_distribution), or None."""
    return _current[0]
