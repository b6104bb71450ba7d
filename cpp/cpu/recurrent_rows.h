// The recurrent cell kernels' rows on f32 vectors: cpp/kernels/recurrent.h's math with VecMath's functions.
// Included once per instruction set by recurrent.cpp, inside that set's namespace and target region, after
// vec_math.h. Buffers hold rows of f32 with each gate's (or state's) H values at a stride padded to a whole
// number of vectors (CellRows::stride), so the loops need no scalar tail; the padding is never read back.

inline vf sigmoid_of(vf x) { return sigmoid(x); }
inline vf tanh_of(vf x) { return tanh(x); }

// Not always_inline: kernels/recurrent.h's templates are compiled without this target, and GCC refuses to
// force-inline a function of a wider target into them; inlined all the same into the rows below.
struct VecMath {
  static inline vf sigmoid(vf x) { return sigmoid_of(x); }
  static inline vf tanh(vf x) { return tanh_of(x); }
  static inline vf relu(vf x) { return select(x > 0.0f, x, splat(0.0f)); }
  static inline vf positive(vf x, vf v) { return select(x > 0.0f, v, splat(0.0f)); }
};

template <CellKind K>
kernels::CellGates<vf> load_gates(const float* p, int64_t stride, int64_t j) {
  kernels::CellGates<vf> g;
  for (int k = 0; k < 4; ++k) g.v[k] = k < cell_gates(K) ? load(p + k * stride + j) : splat(0.0f);
  return g;
}

template <CellKind K>
void store_gates(float* p, int64_t stride, int64_t j, const kernels::CellGates<vf>& g) {
  for (int k = 0; k < cell_gates(K); ++k) store(p + k * stride + j, g.v[k]);
}

template <CellKind K>
void forward_rows(const CellRows& r) {
  const int64_t width = cell_gates(K) * r.stride;
  for (int64_t row = 0; row < r.rows; ++row) {
    for (int64_t j = 0; j < r.hidden; j += kLanes) {
      const int64_t s = row * r.stride + j, g = row * width;
      const vf c = K == CellKind::lstm ? load(r.c + s) : splat(0.0f);
      const kernels::CellState<vf> out = kernels::cell_forward<VecMath>(
          K, load_gates<K>(r.gi + g, r.stride, j), load_gates<K>(r.gh + g, r.stride, j), load(r.h + s), c);
      store(r.h_out + s, out.h);
      if (K == CellKind::lstm) store(r.c_out + s, out.c);
    }
  }
}

template <CellKind K>
void backward_rows(const CellRows& r) {
  const int64_t width = cell_gates(K) * r.stride;
  for (int64_t row = 0; row < r.rows; ++row) {
    for (int64_t j = 0; j < r.hidden; j += kLanes) {
      const int64_t s = row * r.stride + j, g = row * width;
      const vf c = K == CellKind::lstm ? load(r.c + s) : splat(0.0f);
      const vf dc = K == CellKind::lstm ? load(r.dc + s) : splat(0.0f);
      const kernels::CellGrads<vf> d = kernels::cell_backward<VecMath>(
          K, load_gates<K>(r.gi + g, r.stride, j), load_gates<K>(r.gh + g, r.stride, j), load(r.h + s), c,
          load(r.dh + s), dc);
      store_gates<K>(r.dgi + g, r.stride, j, d.dgi);
      if (K == CellKind::gru) {
        store_gates<K>(r.dgh + g, r.stride, j, d.dgh);
        store(r.dh_prev + s, d.dh);
      }
      if (K == CellKind::lstm) store(r.dc_prev + s, d.dc);
    }
  }
}

template <CellKind K>
void fill_kind(RowKernels& t) {
  t.forward[static_cast<int>(K)] = &forward_rows<K>;
  t.backward[static_cast<int>(K)] = &backward_rows<K>;
}

inline void fill(RowKernels& t) {
  fill_kind<CellKind::rnn_tanh>(t);
  fill_kind<CellKind::rnn_relu>(t);
  fill_kind<CellKind::lstm>(t);
  fill_kind<CellKind::gru>(t);
}
