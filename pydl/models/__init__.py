"""Models: ``Sequential``, subclassed ``Model``, and loading saved ones.

    model = pydl.models.load_model("model.pydl")
"""

from . import _plan
from .model import Model
from .saving import load_model
from .sequential import Sequential

_plan.register()  # models made only of built-in layers train on the fused core plan

__all__ = ["Model", "Sequential", "load_model"]
