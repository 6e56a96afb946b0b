"""`Embedding`: turns integer indices into dense vectors of a learned table."""

from __future__ import annotations

import numpy as np

from .. import _core, initializers, ops, regularizers
from ..ops.embedding import as_indices, values_are_indices
from . import _checks
from .core import _serialize
from .layer import Layer


class Embedding(Layer):
    """Maps each integer index in [0, input_dim) to a row of a learned table.

    ```python
    outputs = embeddings[inputs]          # inputs (...) ints -> outputs (..., output_dim)
    ```
    Backward is one deterministic scatter-add into the table's gradient (repeated
    indices summed in order). An index outside [0, input_dim) raises ValueError
    naming the first one and its position. With ``mask_zero=True`` index 0 is
    padding: the output carries the mask ``inputs != 0`` to the next layers (Keras 3
    masking; `GlobalAveragePooling1D` then averages over the other steps), so
    input_dim should count it (vocabulary size + 1).

    Args:
        input_dim: size of the vocabulary (int > 0).
        output_dim: size of each vector (int > 0).
        embeddings_initializer: name or ``pydl.initializers`` object ("uniform":
            U(-0.05, 0.05), as Keras).
        embeddings_regularizer: penalty on the table.
        embeddings_constraint: callable applied after each update.
        mask_zero: treat index 0 as padding and emit a mask.
        weights: an initial table (input_dim, output_dim), or a list holding one.

    Example:
        model = pydl.Sequential([pydl.Input((200,)), pydl.layers.Embedding(20000, 128),
                                 pydl.layers.GlobalAveragePooling1D(),
                                 pydl.layers.Dense(1, activation="sigmoid")])
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, **kwargs):
        name = "Embedding"
        input_dim = _checks.positive_int(name, "input_dim", input_dim)
        output_dim = _checks.positive_int(name, "output_dim", output_dim)
        mask_zero = _checks.boolean(name, "mask_zero", mask_zero)
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = _checks.callable_or_none(name, "embeddings_constraint",
                                                              embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.embeddings = None
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1
                             else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim), initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint,
            name="embeddings")
        self.built = True

    def _convert_inputs(self, inputs):
        # Indices stay integers (Layer would cast them to the float dtype).
        if isinstance(inputs, np.ndarray):
            return inputs
        return super()._convert_inputs(inputs)

    def call(self, inputs):
        return ops.embedding_lookup(self.embeddings, inputs)

    def compute_mask(self, inputs, previous_mask=None):
        if not self.mask_zero:
            return None
        return as_indices(inputs, "Embedding") != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _plan_node(self, call):
        # Tokens arrive as float values of a model input, checked once before fit
        # runs a step (an index out of range sends fit to the tape, which raises).
        if call.model_input(0) is None:
            return call.unsupported(f"Embedding {self.name!r} reads values computed by a layer; "
                                    "the plan checks the tokens of a model input only")
        node = _core.plan.Embedding(self.embeddings.value)
        return call.native(node, [self.embeddings], input_checks={0: self._tokens_fit},
                           output_mask=call.tokens_mask(0) if self.mask_zero else None)

    def _tokens_fit(self, values) -> bool:
        return values_are_indices(values, self.input_dim)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": _serialize(initializers, self.embeddings_initializer),
            "embeddings_regularizer": _serialize(regularizers, self.embeddings_regularizer),
            "embeddings_constraint": _checks.constraint_config(
                "Embedding", "embeddings_constraint", self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        })
        return config
