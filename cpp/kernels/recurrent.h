// The math of one recurrent cell element (torch.nn's RNN, LSTM and GRU gates): its new state from the
// gate projections, and the gradients of that step, recomputed from the same inputs (nothing else is
// saved). The one definition the CPU (on f32 vectors) and CUDA (on floats) kernels compute.
#pragma once
#include "portable.h"
#include "tensorlogic/op_enums.h"

namespace tensorlogic {
namespace kernels {

// V is float or a vector of floats; M supplies M::sigmoid, M::tanh and M::relu(x) on V, and
// M::positive(x, v): v where x > 0, else 0 (PyTorch's relu gradient is 0 at 0).
// a[k], b[k]: gate k of gi = x W_ih^T + b_ih and of gh = h W_hh^T + b_hh (k < cell_gates(kind)).
template <typename V>
struct CellGates {
  V v[4];
};

template <typename V>
struct CellState {
  V h, c;  // c: LSTM only
};

template <typename V>
struct CellGrads {
  CellGates<V> dgi, dgh;  // dgh differs from dgi only for the GRU (its new gate scales n_h by r)
  V dh, dc;               // through the state directly (GRU: h, LSTM: c; 0 otherwise)
};

template <typename M, typename V>
TL_FN CellState<V> cell_forward(CellKind kind, CellGates<V> a, CellGates<V> b, V h, V c) {
  CellState<V> s;
  s.c = c;
  switch (kind) {
    case CellKind::rnn_tanh: s.h = M::tanh(a.v[0] + b.v[0]); break;
    case CellKind::rnn_relu: s.h = M::relu(a.v[0] + b.v[0]); break;
    case CellKind::lstm: {
      const V i = M::sigmoid(a.v[0] + b.v[0]), f = M::sigmoid(a.v[1] + b.v[1]);
      const V g = M::tanh(a.v[2] + b.v[2]), o = M::sigmoid(a.v[3] + b.v[3]);
      s.c = f * c + i * g;
      s.h = o * M::tanh(s.c);
      break;
    }
    case CellKind::gru: {
      const V r = M::sigmoid(a.v[0] + b.v[0]), z = M::sigmoid(a.v[1] + b.v[1]);
      const V n = M::tanh(a.v[2] + r * b.v[2]);
      s.h = n + z * (h - n);
      break;
    }
  }
  return s;
}

// The gradients of one step for dh (and dc, LSTM) of its new state.
template <typename M, typename V>
TL_FN CellGrads<V> cell_backward(CellKind kind, CellGates<V> a, CellGates<V> b, V h, V c, V dh, V dc) {
  CellGrads<V> g;
  g.dh = dh - dh;  // zero of V's shape
  g.dc = g.dh;
  switch (kind) {
    case CellKind::rnn_tanh: {
      const V y = M::tanh(a.v[0] + b.v[0]);
      g.dgi.v[0] = dh - dh * y * y;
      break;
    }
    case CellKind::rnn_relu: g.dgi.v[0] = M::positive(a.v[0] + b.v[0], dh); break;
    case CellKind::lstm: {
      const V i = M::sigmoid(a.v[0] + b.v[0]), f = M::sigmoid(a.v[1] + b.v[1]);
      const V gg = M::tanh(a.v[2] + b.v[2]), o = M::sigmoid(a.v[3] + b.v[3]);
      const V tc = M::tanh(f * c + i * gg);
      const V dct = dc + dh * o * (1.0f - tc * tc);  // the new c's gradient: its own and through h
      g.dgi.v[0] = dct * gg * (i - i * i);
      g.dgi.v[1] = dct * c * (f - f * f);
      g.dgi.v[2] = dct * i * (1.0f - gg * gg);
      g.dgi.v[3] = dh * tc * (o - o * o);
      g.dc = dct * f;
      break;
    }
    case CellKind::gru: {
      const V r = M::sigmoid(a.v[0] + b.v[0]), z = M::sigmoid(a.v[1] + b.v[1]);
      const V n = M::tanh(a.v[2] + r * b.v[2]);
      const V dn = (dh - dh * z) * (1.0f - n * n);
      g.dgi.v[0] = dn * b.v[2] * (r - r * r);
      g.dgi.v[1] = dh * (h - n) * (z - z * z);
      g.dgi.v[2] = dn;
      g.dh = dh * z;
      g.dgh = g.dgi;
      g.dgh.v[2] = dn * r;
      return g;
    }
  }
  g.dgh = g.dgi;
  return g;
}

}  // namespace kernels
}  // namespace tensorlogic
