"""Models: ``Sequential``, ``Model`` (Functional or subclassed), cloning and loading.

    model = pydl.models.load_model("model.pydl")
    copy = pydl.models.clone_model(model)
"""

from . import plan
from .cloning import clone_model
from .functional import Functional
from .model import Model
from .saving import load_model, save_model
from .sequential import Sequential

plan.register()  # models made only of built-in layers train on the fused core plan

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "save_model"]
