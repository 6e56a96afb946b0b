"""Saving: Keras 3's ``keras.saving`` names.

    pydl.saving.save_model(model, "m.pydl"); pydl.saving.load_model("m.pydl")
    @pydl.saving.register_keras_serializable(package="Custom")

The file format is pydl/models/saving.py; the name registry object_registration.py.
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
