"""Layers: the `Layer` base class (custom layers) and the built-in layers."""

from .layer import Layer

__all__ = ["Layer"]
