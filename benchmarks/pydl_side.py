"""pydl's side of each workload, and a plain reason when the API it needs is missing.

pydl is built piece by piece; the harness must run whatever is there, so each
accessor returns either what the workload needs or a reason to print.
"""

from __future__ import annotations


def core_functions(*names: str):
    """(list of pydl._core functions, None) or (None, reason)."""
    try:
        from pydl import _core
    except Exception as exc:
        return None, f"import pydl._core failed ({type(exc).__name__}: {exc})"
    missing = [n for n in names if not hasattr(_core, n)]
    if missing:
        return None, f"pydl._core has no {', '.join(missing)}"
    return [getattr(_core, n) for n in names], None


def keras_api_reason() -> str | None:
    """None when Sequential/Input/Dense/SGD/Adam/compile/fit/predict exist, else why not."""
    try:
        import pydl
    except Exception as exc:
        return f"import pydl failed ({type(exc).__name__}: {exc})"
    needed = {"pydl.Sequential": lambda: pydl.Sequential, "pydl.Input": lambda: pydl.Input,
              "pydl.layers.Dense": lambda: pydl.layers.Dense,
              "pydl.optimizers.SGD": lambda: pydl.optimizers.SGD,
              "pydl.optimizers.Adam": lambda: pydl.optimizers.Adam}
    missing = []
    for name, get in needed.items():
        try:
            get()
        except AttributeError:
            missing.append(name)
    if missing:
        return f"missing {', '.join(missing)}"
    for method in ("compile", "fit", "predict"):
        if not hasattr(pydl.Sequential, method):
            return f"pydl.Sequential has no {method}()"
    return None


def build_model(net, seed: int = 0, api=None):
    """A compiled Sequential for a settings.Net (relu hidden layers, softmax head for
    cross-entropy, SGD with momentum 0.9 or Adam; compile's defaults otherwise), built
    with `api`: pydl by default, or any module with the Keras API (keras itself, for the
    Keras/TF competitor)."""
    if api is None:
        import pydl as api

    if hasattr(api, "utils") and hasattr(api.utils, "set_random_seed"):
        api.utils.set_random_seed(seed)
    head = "softmax" if net.loss != "mse" else None
    layers = [api.Input(shape=(net.sizes[0],))]
    layers += [api.layers.Dense(n, activation="relu") for n in net.sizes[1:-1]]
    layers.append(api.layers.Dense(net.sizes[-1], activation=head))
    model = api.Sequential(layers)
    if net.optimizer == "sgd":
        optimizer = api.optimizers.SGD(learning_rate=net.learning_rate, momentum=0.9)
    else:
        optimizer = api.optimizers.Adam(learning_rate=net.learning_rate)
    model.compile(optimizer=optimizer, loss=net.loss)
    return model
