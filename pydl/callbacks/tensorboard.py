"""`TensorBoard`: event files for TensorBoard, written without TensorFlow (tensorboardX).

    tb = pydl.callbacks.TensorBoard(log_dir="logs", histogram_freq=1, update_freq="epoch")
    model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[tb])
    # then: tensorboard --logdir logs

The layout and tag names are Keras 3's, so dashboards built for Keras read pydl runs:

    logs/train/       epoch_<metric> (the loss, every compiled metric, learning_rate,
                      steps_per_second), batch_<metric> every `update_freq` batches,
                      <weight path>/histogram and /image, the model graph ("keras")
    logs/validation/  epoch_<metric> of the validation logs (the val_ prefix removed),
                      evaluation_<metric>_vs_iterations at each evaluation's end
"""

from __future__ import annotations

import json
import math
import numbers
import os
import time
import warnings

import numpy as np

from ..distribution.output import writes_here
from .callback import Callback

_EXTRA = "pip install 'pydl[tensorboard]'"


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as exc:
        raise ImportError(
            f"pydl.callbacks.TensorBoard writes event files with the tensorboardX package, which "
            f"is not installed ({exc}). Install the extra: {_EXTRA}"
        ) from None
    return SummaryWriter


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"TensorBoard: expected {name} to be an int >= 0, received {name}={value!r}")
    return int(value)


def _check_update_freq(update_freq):
    if update_freq == "batch":
        return 1
    if update_freq == "epoch":
        return "epoch"
    if isinstance(update_freq, bool) or not isinstance(update_freq, numbers.Integral) or update_freq < 1:
        raise ValueError(f'TensorBoard: expected update_freq to be "epoch", "batch" or an int >= 1, '
                         f"received update_freq={update_freq!r}")
    return int(update_freq)


def _check_profile_batch(profile_batch):
    if isinstance(profile_batch, str):  # Keras' older "start,stop" spelling
        try:
            profile_batch = [int(part) for part in profile_batch.split(",")]
        except ValueError:
            profile_batch = None
        if profile_batch is not None and len(profile_batch) == 1:
            profile_batch = profile_batch[0]
    if isinstance(profile_batch, numbers.Integral) and not isinstance(profile_batch, bool):
        start = stop = int(profile_batch)
    elif isinstance(profile_batch, (list, tuple)) and len(profile_batch) == 2:
        start, stop = profile_batch
    else:
        start = stop = -1
    if not (isinstance(start, numbers.Integral) and isinstance(stop, numbers.Integral)) \
            or start < 0 or stop < start:
        raise ValueError("TensorBoard: profile_batch must be a non-negative integer or a 2-tuple of "
                         f"positive integers, received profile_batch={profile_batch!r}")
    if start or stop:
        raise ValueError("TensorBoard: profiling is not available in pydl (as with Keras' numpy and "
                         f"torch backends); pass profile_batch=0, received profile_batch={profile_batch!r}")
    return 0


def _scalar(value):
    """A loggable float, or None for values that are not scalars (they are skipped)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(array) if array.shape == () else None


class TensorBoard(Callback):
    """Writes TensorBoard event files: metrics, weight histograms and images, the model graph.

    ```python
    train/epoch_<name>       = logs[name]                       at step epoch
    validation/epoch_<name>  = logs["val_" + name]              at step epoch
    train/batch_<name>       = batch logs[name]                 every update_freq batches
    train/<weight path>/histogram                               every histogram_freq epochs
    validation/evaluation_<name>_vs_iterations                  at each evaluation, step iterations
    ```

    Args:
        log_dir: where to write; runs go to its ``train`` and ``validation`` subfolders.
        histogram_freq: every this many epochs, write a histogram of every weight (0: never).
        write_graph: write the model's Keras-format config for TensorBoard's graph dashboard.
        write_images: with histograms, also write each weight as an image.
        write_steps_per_second: log training steps per second (epoch and batch level).
        update_freq: "epoch" (metrics once per epoch), "batch" (every batch) or an int
            (every that many batches, as ``batch_<name>``).
        profile_batch: must be 0: pydl has no profiler (Keras' numpy backend refuses it too).
        embeddings_freq: every this many epochs, save the weights for the projector
            (``train/keras_embedding.ckpt-<epoch>.weights.h5``) when the model has
            ``Embedding`` layers (0: never).
        embeddings_metadata: a file name, or ``{embedding layer name: file name}``, for
            the projector's labels.

    Needs the tensorboardX package (``pip install 'pydl[tensorboard]'``); TensorFlow is not used.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"TensorBoard: expected log_dir to be a str or os.PathLike, "
                            f"received log_dir={log_dir!r}")
        if embeddings_metadata is not None and not isinstance(embeddings_metadata, (str, dict)):
            raise TypeError("TensorBoard: expected embeddings_metadata to be a file name, a dict "
                            f"or None, received embeddings_metadata={embeddings_metadata!r}")
        self._writer_class = _summary_writer_class()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _check_count("histogram_freq", histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = _check_update_freq(update_freq)
        self.profile_batch = _check_profile_batch(profile_batch)
        self.embeddings_freq = _check_count("embeddings_freq", embeddings_freq)
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}
        self._training = False
        self._global_train_batch = 0
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._previous_epoch_iterations = 0
        # fit calls the batch hooks (and runs its fused plan one call per step) only
        # for callbacks that use them: with epoch-level logging this one does not.
        if self.update_freq == "epoch" and not self.write_steps_per_second:
            self._idle_hooks = ("on_train_batch_begin", "on_train_batch_end")

    # -- writers -----------------------------------------------------------------------
    def set_model(self, model):
        """Keeps the model and writes its graph (once per fit, as Keras)."""
        super().set_model(model)
        self._close_writers()
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        if not writes_here():  # under DataParallel, rank 0 writes the events
            return
        if self.write_graph:
            self._write_model_graph()
        if self.embeddings_freq:
            self._configure_embeddings()

    def _writer(self, which: str):
        writer = self._writers.get(which)
        if writer is None:
            directory = self._train_dir if which == "train" else self._val_dir
            # TensorFlow's file writer defaults: flush every 10 s or 10 queued events.
            writer = self._writers[which] = self._writer_class(logdir=directory, flush_secs=10,
                                                               max_queue=10)
        return writer

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _scalars(self, which: str, prefix: str, logs: dict, step: int, suffix: str = ""):
        writer = None
        for name, value in logs.items():
            value = _scalar(value)
            if value is None:
                continue
            writer = writer or self._writer(which)
            writer.add_scalar(f"{prefix}{name}{suffix}", value, global_step=int(step))

    # -- hooks -------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if not writes_here():  # under DataParallel, rank 0 writes the events
            return
        self._training = True
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def on_train_end(self, logs=None):
        if not writes_here():  # under DataParallel, rank 0 writes the events
            return
        self._training = False
        self._close_writers()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if not writes_here():  # under DataParallel, rank 0 writes the events
            return
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        step = self._global_train_batch
        logs = dict(logs) if isinstance(logs, dict) else {}
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._batch_start_time
            logs["steps_per_second"] = 1.0 / elapsed if elapsed > 0 else math.inf
        self._scalars("train", "batch_", logs, step)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._previous_epoch_iterations = self._iterations()
            self._epoch_start_time = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if not writes_here():  # under DataParallel, rank 0 writes the events
            return
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings(epoch)

    def on_test_end(self, logs=None):
        if not writes_here():  # under DataParallel, rank 0 writes the events
            return
        optimizer = getattr(self.model, "optimizer", None)
        if logs and optimizer is not None and hasattr(optimizer, "iterations"):
            self._scalars("val", "evaluation_", logs, int(optimizer.iterations),
                          suffix="_vs_iterations")
        if not self._training:  # evaluate() alone: its events are on disk when it returns
            self._close_writers()

    # -- what is written ---------------------------------------------------------------
    def _iterations(self) -> int:
        optimizer = getattr(self.model, "optimizer", None)
        return int(getattr(optimizer, "iterations", 0) or 0)

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train_logs["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._epoch_start_time
            steps = self._iterations() - self._previous_epoch_iterations
            train_logs["steps_per_second"] = steps / elapsed if elapsed > 0 else math.inf
        self._scalars("train", "epoch_", train_logs, epoch)
        if val_logs:
            self._scalars("val", "epoch_", val_logs, epoch)

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = (getattr(weight, "path", None) or weight.name).replace(":", "_")
                values = np.asarray(weight.value, dtype=np.float64)
                if values.size:
                    writer.add_histogram(f"{name}/histogram", values, global_step=epoch)
                if self.write_images:
                    image = _weight_image(values)
                    if image is not None:
                        writer.add_image(f"{name}/image", image, global_step=epoch,
                                         dataformats="HWC")
        writer.flush()

    def _write_model_graph(self):
        """The model's Keras-format JSON under the tag "keras", which TensorBoard's graph
        dashboard draws as a conceptual graph (Keras' keras_model_summary)."""
        try:
            from ..saving import keras_config

            text = json.dumps(keras_config.model_to_keras(self.model))
        except Exception as exc:  # noqa: BLE001 -- as Keras: a graph that cannot be written is skipped
            warnings.warn(f"TensorBoard: the model graph was not written: {exc}", stacklevel=3)
            return
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name="graph_keras_model", content=b"1"))
        tensor = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf-8")],
                             tensor_shape=TensorShapeProto())
        summary = Summary(value=[Summary.Value(tag="keras", metadata=metadata, tensor=tensor)])
        writer = self._writer("train")
        writer._get_file_writer().add_summary(summary, global_step=0)
        writer.flush()

    def _embedding_layers(self):
        return [layer for layer in self.model.layers if type(layer).__name__ == "Embedding"]

    def _configure_embeddings(self):
        """projector_config.pbtxt naming each Embedding layer's table (Keras' layout)."""
        metadata = self.embeddings_metadata
        remaining = dict(metadata) if isinstance(metadata, dict) else {}
        lines = []
        for layer in self._embedding_layers():
            lines.append("embeddings {")
            lines.append('  tensor_name: "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"')
            path = metadata if isinstance(metadata, str) else remaining.pop(layer.name, None)
            if path is not None:
                lines.append(f"  metadata_path: {json.dumps(str(path))}")
            lines.append("}")
        if remaining:
            raise ValueError("TensorBoard: unrecognized Embedding layer names passed to "
                             f"embeddings_metadata: {sorted(remaining)}")
        os.makedirs(self.log_dir, exist_ok=True)
        with open(os.path.join(self.log_dir, "projector_config.pbtxt"), "w") as handle:
            handle.write("\n".join(lines) + ("\n" if lines else ""))

    def _log_embeddings(self, epoch):
        os.makedirs(self._train_dir, exist_ok=True)
        self.model.save_weights(
            os.path.join(self._train_dir, f"keras_embedding.ckpt-{epoch}.weights.h5"))


def _weight_image(values: np.ndarray):
    """A weight as an (H, W, 1) image as Keras shows it: a bias as one column, a kernel
    with its longer side across; None for weights of rank > 2 (pydl has no such layer)."""
    image = np.squeeze(values)
    if image.ndim == 1:
        return image.reshape(image.shape[0], 1, 1)
    if image.ndim == 2:
        if image.shape[0] > image.shape[1]:
            image = image.T
        return image.reshape(image.shape[0], image.shape[1], 1)
    return None
