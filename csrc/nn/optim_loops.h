// The optimizer loops, written once. Included exactly once by optim.cpp,
// optim__avx2.cpp and optim__avx512.cpp, each after defining PYDL_OPTIM_NS to
// its own namespace name (cpu/isa.h: per-ISA code stays in its own namespace).
//
// Each loop is one pass over [begin, end): load w, g and the slots, update in
// registers, store. Variants are template flags, so the loops carry no
// branches and the compiler vectorizes them. The arithmetic follows Keras 3's
// update_step expression by expression (see nn/optim.h), in T.
#ifndef PYDL_OPTIM_NS
#error "define PYDL_OPTIM_NS before including nn/optim_loops.h"
#endif

#include <cmath>
#include <cstddef>

#include "nn/optim_kernels.h"

namespace pydl::nn::optim_detail::PYDL_OPTIM_NS {
namespace {

using std::ptrdiff_t;

// g * grad_scale clipped to [-clip, clip]; NaN passes through.
template <class T>
inline T prepared_gradient(T g, const Scalars<T>& s) {
    g = g * s.grad_scale;
    return g < -s.clip_value ? -s.clip_value : (g > s.clip_value ? s.clip_value : g);
}

// Keras' decoupled decay, applied before the update: w - w * wd * lr.
template <bool Decay, class T>
inline T decayed(T w, const Scalars<T>& s) {
    return Decay ? w - w * s.weight_decay * s.lr : w;
}

enum SgdMode { kPlain, kMomentum, kNesterov };

template <bool Decay, int Mode, class T>
void sgd(const Scalars<T>& s, T* __restrict w, const T* __restrict g, T* __restrict m,
         ptrdiff_t begin, ptrdiff_t end) {
    for (ptrdiff_t i = begin; i < end; ++i) {
        const T gi = prepared_gradient(g[i], s);
        T wi = decayed<Decay>(w[i], s);
        if (Mode == kPlain) {
            wi = wi - gi * s.lr;
        } else {
            const T mi = m[i] * s.momentum - gi * s.lr;
            m[i] = mi;
            wi = Mode == kNesterov ? wi + (mi * s.momentum - gi * s.lr) : wi + mi;
        }
        w[i] = wi;
    }
}

template <bool Decay, class T>
void adagrad(const Scalars<T>& s, T* __restrict w, const T* __restrict g, T* __restrict acc,
             ptrdiff_t begin, ptrdiff_t end) {
    for (ptrdiff_t i = begin; i < end; ++i) {
        const T gi = prepared_gradient(g[i], s);
        const T a = acc[i] + gi * gi;
        acc[i] = a;
        w[i] = decayed<Decay>(w[i], s) - (s.lr * gi) / std::sqrt(a + s.epsilon);
    }
}

template <bool Decay, bool Centered, bool Momentum, class T>
void rmsprop(const Scalars<T>& s, T* __restrict w, const T* __restrict g, T* __restrict v,
             T* __restrict mom, T* __restrict mg, ptrdiff_t begin, ptrdiff_t end) {
    for (ptrdiff_t i = begin; i < end; ++i) {
        const T gi = prepared_gradient(g[i], s);
        const T vi = s.rho * v[i] + s.one_minus_rho * (gi * gi);
        v[i] = vi;
        T den;
        if (Centered) {
            const T mgi = s.rho * mg[i] + s.one_minus_rho * gi;
            mg[i] = mgi;
            den = vi - mgi * mgi + s.epsilon;
        } else {
            den = vi + s.epsilon;
        }
        const T inc = (s.lr * gi) / std::sqrt(den);
        T wi = decayed<Decay>(w[i], s);
        if (Momentum) {
            const T mi = s.momentum * mom[i] + inc;
            mom[i] = mi;
            wi = wi - mi;
        } else {
            wi = wi - inc;
        }
        w[i] = wi;
    }
}

template <bool Decay, bool Amsgrad, class T>
void adam(const Scalars<T>& s, T* __restrict w, const T* __restrict g, T* __restrict m,
          T* __restrict v, T* __restrict vhat, ptrdiff_t begin, ptrdiff_t end) {
    for (ptrdiff_t i = begin; i < end; ++i) {
        const T gi = prepared_gradient(g[i], s);
        const T mi = m[i] + (gi - m[i]) * s.one_minus_beta_1;
        T vi = v[i] + (gi * gi - v[i]) * s.one_minus_beta_2;
        m[i] = mi;
        v[i] = vi;
        if (Amsgrad) {
            vi = vhat[i] > vi ? vhat[i] : vi;  // a NaN in v reaches vhat
            vhat[i] = vi;
        }
        w[i] = decayed<Decay>(w[i], s) - (mi * s.alpha) / (std::sqrt(vi) + s.epsilon);
    }
}

template <bool Decay, class T>
void step_kind(const OptimizerStep& st, const Scalars<T>& s, const OptimizerTensor<T>& t,
               ptrdiff_t b, ptrdiff_t e) {
    T* const* slot = t.slot;
    switch (st.kind) {
        case OptimizerKind::sgd:
            if (!slot[0]) return sgd<Decay, kPlain>(s, t.w, t.g, slot[0], b, e);
            if (st.nesterov) return sgd<Decay, kNesterov>(s, t.w, t.g, slot[0], b, e);
            return sgd<Decay, kMomentum>(s, t.w, t.g, slot[0], b, e);
        case OptimizerKind::adagrad:
            return adagrad<Decay>(s, t.w, t.g, slot[0], b, e);
        case OptimizerKind::rmsprop: {
            const bool momentum = st.momentum > 0.0;
            if (st.centered) {
                if (momentum) return rmsprop<Decay, true, true>(s, t.w, t.g, slot[0], slot[1], slot[2], b, e);
                return rmsprop<Decay, true, false>(s, t.w, t.g, slot[0], slot[1], slot[2], b, e);
            }
            if (momentum) return rmsprop<Decay, false, true>(s, t.w, t.g, slot[0], slot[1], slot[2], b, e);
            return rmsprop<Decay, false, false>(s, t.w, t.g, slot[0], slot[1], slot[2], b, e);
        }
        case OptimizerKind::adam:
            if (slot[2]) return adam<Decay, true>(s, t.w, t.g, slot[0], slot[1], slot[2], b, e);
            return adam<Decay, false>(s, t.w, t.g, slot[0], slot[1], slot[2], b, e);
    }
}

template <class T>
void step_range(const OptimizerStep& st, const Scalars<T>& s, const OptimizerTensor<T>& t,
                ptrdiff_t b, ptrdiff_t e) {
    if (st.weight_decay != 0.0) {
        step_kind<true>(st, s, t, b, e);
    } else {
        step_kind<false>(st, s, t, b, e);
    }
}

}  // namespace

void step_range_f32(const OptimizerStep& st, const Scalars<float>& s,
                    const OptimizerTensor<float>& t, ptrdiff_t b, ptrdiff_t e) {
    step_range(st, s, t, b, e);
}
void step_range_f64(const OptimizerStep& st, const Scalars<double>& s,
                    const OptimizerTensor<double>& t, ptrdiff_t b, ptrdiff_t e) {
    step_range(st, s, t, b, e);
}

}  // namespace pydl::nn::optim_detail::PYDL_OPTIM_NS
