"""Exporting models to other runtimes: ONNX (``model.export(path, format="onnx")``).

- ``onnx``: the exporter (graph walk, opset, checks, the file);
- ``onnx_layers``: one converter per built-in layer, and ``register`` for custom ones.
"""
