"""Saving: Keras 3's ``keras.saving`` names.

    pydl.saving.save_model(model, "m.pydl"); pydl.saving.load_model("m.pydl")
    @pydl.saving.register_keras_serializable(package="Custom")

pydl's own file format is pydl/models/saving.py; the name registry object_registration.py.
Keras 3's ``.keras`` / ``.weights.h5`` format: keras_file.py (with keras_config.py for
architectures, keras_objects.py for initializers, optimizers, ..., keras_weights.py for the
HDF5 layout) and hdf5.py, a pure-Python, bounds-checked HDF5 reader.
"""

from .object_registration import (CustomObjectScope, custom_object_scope, get_custom_objects,
                                  get_registered_name, get_registered_object,
                                  register_keras_serializable)


def save_model(model, filepath, overwrite=True, **kwargs):
    """``model.save(filepath, overwrite)``: architecture, weights and optimizer state."""
    return model.save(filepath, overwrite=overwrite, **kwargs)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model saved in ``filepath`` (``pydl.models.load_model``)."""
    from ..models.saving import load_model as _load_model  # models import this package

    return _load_model(filepath, custom_objects=custom_objects, compile=compile,
                       safe_mode=safe_mode)


__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_name", "get_registered_object", "load_model",
           "register_keras_serializable", "save_model"]
