"""TensorBoard: event files read back by TensorBoard's own reader and served by its HTTP API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pytest

import pydl
from pydl import callbacks, layers
from pydl.models.trainer import _overrides

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def classification(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return x, y


def classifier():
    pydl.utils.set_random_seed(0)
    model = pydl.Sequential([pydl.Input(shape=(5,)), layers.Dense(8, activation="relu"),
                             layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def read_run(directory):
    acc = event_accumulator.EventAccumulator(
        str(directory), size_guidance={event_accumulator.SCALARS: 0,
                                       event_accumulator.HISTOGRAMS: 0,
                                       event_accumulator.TENSORS: 0})
    acc.Reload()
    return acc


def scalar_series(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_epoch_scalars_in_train_and_validation_runs(tmp_path):
    x, y = classification()
    model = classifier()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[callbacks.TensorBoard(log_dir=tmp_path)])
    train = read_run(tmp_path / "train")
    validation = read_run(tmp_path / "validation")
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert set(validation.Tags()["scalars"]) == {
        "epoch_loss", "epoch_accuracy",
        "evaluation_loss_vs_iterations", "evaluation_accuracy_vs_iterations"}
    for tag, key in (("epoch_loss", "loss"), ("epoch_accuracy", "accuracy")):
        steps, values = zip(*scalar_series(train, tag))
        assert steps == (0, 1, 2)
        np.testing.assert_allclose(values, history.history[key], rtol=1e-6)
        steps, values = zip(*scalar_series(validation, tag))
        assert steps == (0, 1, 2)
        np.testing.assert_allclose(values, history.history["val_" + key], rtol=1e-6)
    assert [v for _, v in scalar_series(train, "epoch_learning_rate")] == pytest.approx([1e-3] * 3)
    # evaluation_*_vs_iterations: one point per validation, at the optimizer's step count.
    steps = [s for s, _ in scalar_series(validation, "evaluation_loss_vs_iterations")]
    assert steps == [5, 10, 15]  # 72 training samples in batches of 16: 5 steps per epoch
    # The graph: the model's Keras-format config under the tag "keras".
    assert "keras" in train.Tags()["tensors"]
    graph = json.loads(train.Tensors("keras")[0].tensor_proto.string_val[0])
    assert graph["class_name"] == "Sequential"
    assert [entry["class_name"] for entry in graph["config"]["layers"]] == \
        ["InputLayer", "Dense", "Dense"]


def test_batch_scalars_every_update_freq_batches(tmp_path):
    x, y = classification()
    model = classifier()
    seen = []

    class Batches(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(dict(logs))

    model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False,
              callbacks=[callbacks.TensorBoard(log_dir=tmp_path, update_freq=2,
                                               write_steps_per_second=True), Batches()])
    train = read_run(tmp_path / "train")
    assert {"batch_loss", "batch_accuracy", "batch_steps_per_second",
            "epoch_steps_per_second"} <= set(train.Tags()["scalars"])
    series = scalar_series(train, "batch_loss")
    # 6 batches per epoch, numbered 1.. across epochs; every second one is written.
    assert [s for s, _ in series] == [2, 4, 6, 8, 10, 12]
    np.testing.assert_allclose([v for _, v in series], [seen[s - 1]["loss"] for s, _ in series],
                               rtol=1e-6)
    assert all(v > 0 for _, v in scalar_series(train, "batch_steps_per_second"))


def test_update_freq_batch_is_every_batch(tmp_path):
    x, y = classification(n=32)
    classifier().fit(x, y, epochs=1, batch_size=8, verbose=0,
                     callbacks=[callbacks.TensorBoard(log_dir=tmp_path, update_freq="batch")])
    assert [s for s, _ in scalar_series(read_run(tmp_path / "train"), "batch_loss")] == [1, 2, 3, 4]


def test_weight_histograms_and_images(tmp_path):
    x, y = classification()
    model = classifier()
    model.fit(x, y, epochs=3, batch_size=32, verbose=0,
              callbacks=[callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=2,
                                               write_images=True)])
    train = read_run(tmp_path / "train")
    paths = [w.path for w in model.weights]
    assert set(train.Tags()["histograms"]) == {f"{p}/histogram" for p in paths}
    assert set(train.Tags()["images"]) == {f"{p}/image" for p in paths}
    kernel = model.weights[0]
    events = train.Histograms(f"{kernel.path}/histogram")
    assert [e.step for e in events] == [0, 2]
    last = events[-1].histogram_value
    assert last.num == kernel.value.size
    assert last.min == pytest.approx(float(kernel.value.min()))
    assert last.max == pytest.approx(float(kernel.value.max()))
    assert last.sum == pytest.approx(float(kernel.value.astype(np.float64).sum()), rel=1e-5)


def test_evaluate_alone_writes_evaluation_scalars(tmp_path):
    x, y = classification()
    model = classifier()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    loss, _ = model.evaluate(x, y, verbose=0, callbacks=[callbacks.TensorBoard(log_dir=tmp_path)])
    validation = read_run(tmp_path / "validation")
    assert scalar_series(validation, "evaluation_loss_vs_iterations") == [(3, pytest.approx(loss))]


def test_epoch_logging_leaves_fit_without_batch_hooks():
    assert not _overrides(callbacks.History(), "on_train_batch_end")
    assert not _overrides(callbacks.TensorBoard(write_graph=False), "on_train_batch_end")
    assert _overrides(callbacks.TensorBoard(update_freq=3), "on_train_batch_end")
    assert _overrides(callbacks.TensorBoard(write_steps_per_second=True), "on_train_batch_begin")


@pytest.mark.parametrize("kwargs, match", [
    ({"update_freq": 0}, "update_freq"), ({"update_freq": "often"}, "update_freq"),
    ({"histogram_freq": -1}, "histogram_freq"), ({"embeddings_freq": 1.5}, "embeddings_freq"),
    ({"profile_batch": 3}, "profil"), ({"profile_batch": (5, 2)}, "profile_batch"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        callbacks.TensorBoard(**kwargs)
    with pytest.raises(TypeError, match="log_dir"):
        callbacks.TensorBoard(log_dir=3)


def test_missing_tensorboardx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"pydl\[tensorboard\]"):
        callbacks.TensorBoard()


# -- the tensorboard server ------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


@pytest.mark.slow
def test_tensorboard_server_serves_the_scalars(tmp_path):
    pytest.importorskip("tensorboard.main")
    x, y = classification()
    model = classifier()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[callbacks.TensorBoard(log_dir=tmp_path / "logs")])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(tmp_path / "logs"),
         "--port", str(port), "--host", "127.0.0.1", "--load_fast", "false",
         "--reload_interval", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        points = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                tags = get_json(f"{base}/data/plugin/scalars/tags")
                if "epoch_loss" in tags.get("train", {}) and "epoch_loss" in tags.get("validation", {}):
                    points = {
                        run: get_json(f"{base}/data/plugin/scalars/scalars?"
                                      + urllib.parse.urlencode({"run": run, "tag": "epoch_loss"}))
                        for run in ("train", "validation")}
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                pass
            time.sleep(0.5)
        assert points is not None, "tensorboard did not serve the run within 60 s: " + (
            server.stderr.read(4000).decode(errors="replace") if server.poll() is not None else "")
        # Each point is [wall_time, step, value].
        assert [p[1] for p in points["train"]] == [0, 1, 2]
        np.testing.assert_allclose([p[2] for p in points["train"]], history.history["loss"], rtol=1e-6)
        np.testing.assert_allclose([p[2] for p in points["validation"]], history.history["val_loss"],
                                   rtol=1e-6)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        server.stderr.close()


def test_embeddings_for_the_projector(tmp_path):
    pytest.importorskip("h5py")
    pydl.utils.set_random_seed(0)
    model = pydl.Sequential([pydl.Input(shape=(4,)), layers.Embedding(10, 3, name="words"),
                             layers.GlobalAveragePooling1D(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    ids = np.random.default_rng(0).integers(0, 10, (32, 4)).astype(np.float32)
    model.fit(ids, np.arange(32) % 2, epochs=2, verbose=0,
              callbacks=[callbacks.TensorBoard(log_dir=tmp_path, embeddings_freq=1,
                                               embeddings_metadata={"words": "words.tsv"})])
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert 'tensor_name: "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"' in config
    assert 'metadata_path: "words.tsv"' in config
    checkpoint = tmp_path / "train" / "keras_embedding.ckpt-1.weights.h5"
    assert (tmp_path / "train" / "keras_embedding.ckpt-0.weights.h5").exists() and checkpoint.exists()
    copy = pydl.models.clone_model(model)
    copy.load_weights(checkpoint)
    np.testing.assert_array_equal(copy.layers[0].embeddings.value, model.layers[0].embeddings.value)
    with pytest.raises(ValueError, match="nope"):
        model.fit(ids, np.arange(32) % 2, epochs=1, verbose=0,
                  callbacks=[callbacks.TensorBoard(log_dir=tmp_path / "bad", embeddings_freq=1,
                                                   embeddings_metadata={"nope": "x.tsv"})])
