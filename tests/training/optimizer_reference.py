"""Keras 3's optimizer update rules written out in NumPy: the oracle of the optimizer tests."""

from __future__ import annotations

import math

import numpy as np


def clip_gradients(grads, clipnorm=None, clipvalue=None, global_clipnorm=None):
    if clipnorm is not None:
        return [g * clipnorm / max(np.sqrt(np.sum(g * g)), clipnorm) for g in grads]
    if global_clipnorm is not None:
        norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
        return [g * global_clipnorm * min(1.0 / norm, 1.0 / global_clipnorm) for g in grads]
    if clipvalue is not None:
        return [np.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads


class ReferenceOptimizer:
    """kind: sgd | adagrad | rmsprop | adam; hyperparameters as the pydl classes take them."""

    def __init__(self, kind, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **hp):
        self.kind, self.lr, self.wd, self.hp = kind, learning_rate, weight_decay, hp
        self.clip = dict(clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm)
        self.iterations = 0
        self.state = None

    def _init_state(self, w):
        init = self.hp.get("initial_accumulator_value", 0.1) if self.kind == "adagrad" else 0.0
        return {name: np.full_like(w, init) for name in ("m", "v", "mg", "vhat", "acc")}

    def step(self, ws, grads):
        if self.state is None:
            self.state = [self._init_state(w) for w in ws]
        lr = self.lr(self.iterations) if callable(self.lr) else self.lr
        grads = clip_gradients(grads, **self.clip)
        for w, g, s in zip(ws, grads, self.state):
            if self.wd:
                w -= w * self.wd * lr
            getattr(self, "_" + self.kind)(w, g, s, lr)
        self.iterations += 1

    def _sgd(self, w, g, s, lr):
        momentum, nesterov = self.hp.get("momentum", 0.0), self.hp.get("nesterov", False)
        if momentum == 0:
            w -= lr * g
            return
        s["m"][...] = momentum * s["m"] - lr * g
        w += momentum * s["m"] - lr * g if nesterov else s["m"]

    def _adagrad(self, w, g, s, lr):
        eps = self.hp.get("epsilon", 1e-7)
        s["acc"] += g * g
        w -= lr * g / np.sqrt(s["acc"] + eps)

    def _rmsprop(self, w, g, s, lr):
        rho, momentum = self.hp.get("rho", 0.9), self.hp.get("momentum", 0.0)
        eps, centered = self.hp.get("epsilon", 1e-7), self.hp.get("centered", False)
        s["v"][...] = rho * s["v"] + (1 - rho) * g * g
        if centered:
            s["mg"][...] = rho * s["mg"] + (1 - rho) * g
            den = s["v"] - s["mg"] * s["mg"] + eps
        else:
            den = s["v"] + eps
        inc = lr * g / np.sqrt(den)
        if momentum > 0:
            s["m"][...] = momentum * s["m"] + inc
            w -= s["m"]
        else:
            w -= inc

    def _adam(self, w, g, s, lr):
        b1, b2 = self.hp.get("beta_1", 0.9), self.hp.get("beta_2", 0.999)
        eps, amsgrad = self.hp.get("epsilon", 1e-7), self.hp.get("amsgrad", False)
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        s["m"] += (g - s["m"]) * (1 - b1)
        s["v"] += (g * g - s["v"]) * (1 - b2)
        v = s["v"]
        if amsgrad:
            s["vhat"][...] = np.maximum(s["vhat"], s["v"])
            v = s["vhat"]
        w -= alpha * s["m"] / (np.sqrt(v) + eps)
