// Training rules that both paths (the GradientTape ops and the fused plan) ask,
// written once. The bindings expose them as _core.dense_keeps_preactivation and
// _core.loss_fuses.
#pragma once

#include "nn/activation.h"
#include "nn/loss.h"

namespace pydl::nn {

// A dense layer keeps its pre-activation z when a fused loss may read it as logits
// (softmax, sigmoid) or when the activation's backward needs it; otherwise the GEMM
// epilogue applies the activation and z is never stored.
inline bool dense_keeps_preactivation(Activation act) {
    return act == Activation::softmax || act == Activation::sigmoid || needs_preactivation(act);
}

// Cross-entropy on the output of a softmax (sigmoid for binary) is computed from
// the logits below it (stable log-sum-exp), with the gradient p - y entering below
// the activation.
inline bool loss_fuses(LossKind kind, bool from_logits, Activation last) {
    if (from_logits) return false;
    switch (kind) {
        case LossKind::categorical_crossentropy:
        case LossKind::sparse_categorical_crossentropy:
            return last == Activation::softmax;
        case LossKind::binary_crossentropy:
            return last == Activation::sigmoid;
        default:
            return false;
    }
}

}  // namespace pydl::nn
