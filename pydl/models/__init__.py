"""Models: ``Sequential``, subclassed ``Model``, and loading saved ones.

    model = pydl.models.load_model("model.pydl")
"""

from .model import Model
from .saving import load_model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "load_model"]
