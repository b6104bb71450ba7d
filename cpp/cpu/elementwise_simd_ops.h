// The vector forms of the elementwise ops (scalar definitions: cpp/kernels/elementwise.h) and their loops over
// contiguous f16 runs. Included once per instruction set by elementwise_simd.cpp, inside that set's
// namespace and target region, after vec_math.h and the set's load_f16(const half*) / store_f16(half*, vf).

TL_VINLINE vf ones() { return splat(1.0f); }
TL_VINLINE vf mask_to_float(vi m) { return select(m, ones(), splat(0.0f)); }
TL_VINLINE vf vsqrt(vf x) {
  vf r;
  for (int l = 0; l < kLanes; ++l) r[l] = __builtin_sqrtf(x[l]);
  return r;
}
// log(1 + x) without cancellation: log(u) * x / (u - 1) with u = 1 + x (exact where u == 1).
TL_VINLINE vf log1p(vf x) {
  const vf u = x + 1.0f;
  const vf r = log(u) * (x / (u - 1.0f));
  return select(u == 1.0f, x, select(x == __builtin_inff(), x, r));
}
// floor/ceil/round keep the sign of the input, so -0.3 gives -0.0 as in PyTorch (|x| <= 65504 in f16).
TL_VINLINE vf with_sign_of(vf r, vf x) { return from_bits(bits(r) | (bits(x) & static_cast<int32_t>(0x80000000u))); }
TL_VINLINE vf round_even(vf x) { return with_sign_of(select(vabs(x) < 8388608.0f, round_int(x), x), x); }
TL_VINLINE vf floor_(vf x) {
  const vf r = round_int(x);
  return with_sign_of(select(vabs(x) < 8388608.0f, r - mask_to_float(r > x), x), x);
}
TL_VINLINE vf ceil_(vf x) {
  const vf r = round_int(x);
  return with_sign_of(select(vabs(x) < 8388608.0f, r + mask_to_float(r < x), x), x);
}
// sin (shift 0) or cos (shift 1): j = round(x * 2/pi), r = x - j * pi/2 with pi/2 split in four parts;
// the first three products and differences are exact for |j| < 2^16, i.e. for every finite f16 input.
TL_VINLINE vf sin_cos(vf x, int32_t shift) {
  const vf j = round_int(x * 0.636619772367581343f);
  vf r = x - j * 1.5703125f;
  r = r - j * 4.825592041015625e-4f;
  r = r - j * 1.2665987014770508e-6f;
  r = r - j * 9.92093629470503e-10f;
  const vi q = __builtin_convertvector(j, vi) + shift;
  const vf z = r * r;
  const vf s = ((z * -1.9515295891e-4f + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * r + r;
  const vf c = ((z * 2.443315711809948e-5f - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z - z * 0.5f + 1.0f;
  const vf v = select((q & 1) > 0, c, s);
  return from_bits(bits(v) ^ ((q & 2) << 30));
}
// 0.5 * erfc(z) for z >= 0 with small relative error: exp(-z^2) * erfcx(z), erfcx from a Chebyshev fit
// on [0, 2] and from Cephes' asymptotic form (1/z) R(1/z^2) above.
TL_VINLINE vf half_erfc(vf z) {
  const vf t = z - 1.0f;
  static constexpr float kErfcxNear[] = {-6.27392134611252e-05f, 1.8463435473911111e-04f, -3.596289504783586e-04f,
                                         9.923443802392973e-04f, -2.782208159593986e-03f, 6.9994502018735e-03f,
                                         -1.6658170954648385e-02f, 3.756571400349311e-02f, -7.922740939633471e-02f,
                                         1.543720944085281e-01f, -2.732119999700429e-01f, 4.2758356926103114e-01f};
  const vf p = horner(t, kErfcxNear);
  const vf q = 1.0f / vmax(z, splat(2.0f));
  const vf y = q * q;
  static constexpr float kErfcxFar[] = {-1.047766399936249e+01f, 1.297719955372516e+01f, -7.495518717768503e+00f,
                                        2.921019019210786e+00f, -1.015265279202700e+00f, 4.218463358204948e-01f,
                                        -2.820767439740514e-01f, 5.641895067754075e-01f};
  const vf r = horner(y, kErfcxFar);
  const vf g = select(z < 2.0f, p, q * r);
  return exp(-(z * z)) * g * 0.5f;
}
// x * Phi(x): Phi = 0.5 erfc(|x| / sqrt 2) for x < 0 (no cancellation), 1 - that for x >= 0.
TL_VINLINE vf gelu(vf x) {
  const vf e = half_erfc(vabs(x) * 0.70710678118654752f);
  return x * select(x < 0.0f, e, 1.0f - e);
}
TL_VINLINE vf relu(vf x) { return select(x <= 0.0f, splat(0.0f), x); }  // NaN stays NaN
// x^a as kernels::unary_f32 computes it (products for a = 2 and 3, the tanh GELU written out; sqrt for +-0.5):
// those forms vectorised, other exponents per lane through powf. The exponent is one per call, so the
// branches are taken the same way for every vector.
TL_VINLINE vf pow_scalar(vf x, float a) {
  if (a == 2.0f) return x * x;
  if (a == 3.0f) return x * x * x;
  if (a == 0.5f) return vsqrt(x);
  if (a == -0.5f) return 1.0f / vsqrt(x);
  vf r;
  for (int l = 0; l < kLanes; ++l) r[l] = __builtin_powf(x[l], a);
  return r;
}
// The activations' derivatives (cpp/kernels/elementwise.h gives the formulas).
// kernels::near_root_or: the derivatives' Taylor form near their roots (the same operations, so the same bits).
TL_VINLINE vf near_root_or(vf x, kernels::DerivativeRoot r, vf direct) {
  const vf d0 = x - r.hi, d = d0 - r.lo;
  return select(vabs(d0) < 0.00390625f, d * (d * r.c2 + r.c1), direct);
}
TL_VINLINE vf gelu_grad(vf x) {
  const vf e = half_erfc(vabs(x) * 0.70710678118654752f);
  return near_root_or(x, kernels::gelu_grad_root(),
                      select(x < 0.0f, e, 1.0f - e) + x * exp(x * x * -0.5f) * 0.39894228040143268f);
}
TL_VINLINE vf gelu_tanh_grad(vf x) {
  const vf u2 = (x + x * x * x * 0.044715f) * 1.59576912160573073f;
  const vf s = 1.0f / (1.0f + exp(-u2)), rest = 1.0f / (1.0f + exp(u2));
  return near_root_or(x, kernels::gelu_tanh_grad_root(),
                      s + x * s * rest * 1.59576912160573073f * (x * x * 0.134145f + 1.0f));
}
TL_VINLINE vf silu_grad(vf x) {
  const vf s = 1.0f / (1.0f + exp(-x)), rest = 1.0f / (1.0f + exp(x));
  return near_root_or(x, kernels::silu_grad_root(), s * (x * rest + 1.0f));
}

// ---- ops: vector forms of cpp/kernels/elementwise.h ------------------------------------------------
template <UnaryOp Op>
struct UnaryVec {
  static constexpr bool exists = false;
  TL_VINLINE static vf apply(vf x, const UnaryParams&) { return x; }
};
#define TL_UNARY_VEC(OP, ...)                                                              \
  template <>                                                                              \
  struct UnaryVec<UnaryOp::OP> {                                                           \
    static constexpr bool exists = true;                                                   \
    TL_VINLINE static vf apply(vf x, [[maybe_unused]] const UnaryParams& p) { __VA_ARGS__; } \
  };
TL_UNARY_VEC(neg, return -x)
TL_UNARY_VEC(abs, return vabs(x))
TL_UNARY_VEC(exp, return exp(x))
TL_UNARY_VEC(log, return log(x))
TL_UNARY_VEC(log1p, return log1p(x))
TL_UNARY_VEC(sqrt, return vsqrt(x))
TL_UNARY_VEC(rsqrt, return 1.0f / vsqrt(x))
TL_UNARY_VEC(sin, return sin_cos(x, 0))
TL_UNARY_VEC(cos, return sin_cos(x, 1))
TL_UNARY_VEC(tanh, return tanh(x))
TL_UNARY_VEC(sigmoid, return sigmoid(x))
TL_UNARY_VEC(relu, return relu(x))
TL_UNARY_VEC(gelu, return gelu(x))
TL_UNARY_VEC(gelu_tanh, const vf u = (x + x * x * x * 0.044715f) * 1.59576912160573073f; return x / (1.0f + exp(-u)))
TL_UNARY_VEC(silu, return x / (1.0f + exp(-x)))
TL_UNARY_VEC(softplus, const vf bx = x * p.a; return select(bx > p.b, x, log1p(exp(bx)) / p.a))
TL_UNARY_VEC(reciprocal, return 1.0f / x)
TL_UNARY_VEC(square, return x * x)
TL_UNARY_VEC(sign, return select(x > 0.0f, ones(), select(x < 0.0f, -ones(), x)))
TL_UNARY_VEC(floor, return floor_(x))
TL_UNARY_VEC(ceil, return ceil_(x))
TL_UNARY_VEC(round, return round_even(x))
TL_UNARY_VEC(clamp, return p.a != p.a || p.b != p.b ? splat(p.a + p.b)  // a NaN bound gives NaN (elementwise.h)
                                                    : select(isnan(x), x, vmin(vmax(x, splat(p.a)), splat(p.b))))
TL_UNARY_VEC(step, return mask_to_float(x > 0.0f))
TL_UNARY_VEC(pow_scalar, return pow_scalar(x, p.a))
TL_UNARY_VEC(logical_not, return mask_to_float(x == 0.0f))
#undef TL_UNARY_VEC

template <BinaryOp Op>
struct BinaryVec {
  static constexpr bool exists = false;
  TL_VINLINE static vf apply(vf a, vf) { return a; }
};
#define TL_BINARY_VEC(OP, ...)                  \
  template <>                                   \
  struct BinaryVec<BinaryOp::OP> {              \
    static constexpr bool exists = true;        \
    TL_VINLINE static vf apply(vf a, vf b) { __VA_ARGS__; } \
  };
TL_BINARY_VEC(add, return a + b)
TL_BINARY_VEC(sub, return a - b)
TL_BINARY_VEC(mul, return a * b)
TL_BINARY_VEC(div, return a / b)
TL_BINARY_VEC(maximum, return select(isnan(a), a, select(isnan(b), b, vmax(a, b))))
TL_BINARY_VEC(minimum, return select(isnan(a), a, select(isnan(b), b, vmin(a, b))))
TL_BINARY_VEC(eq, return mask_to_float(a == b))
TL_BINARY_VEC(ne, return mask_to_float(a != b))
TL_BINARY_VEC(lt, return mask_to_float(a < b))
TL_BINARY_VEC(le, return mask_to_float(a <= b))
TL_BINARY_VEC(gt, return mask_to_float(a > b))
TL_BINARY_VEC(ge, return mask_to_float(a >= b))
TL_BINARY_VEC(add_relu, return relu(a + b))
TL_BINARY_VEC(mul_relu, return relu(a * b))
TL_BINARY_VEC(logical_and, return select(a == 0.0f, splat(0.0f), select(b == 0.0f, splat(0.0f), ones())))
TL_BINARY_VEC(logical_or, return select(a == 0.0f, select(b == 0.0f, splat(0.0f), ones()), ones()))
TL_BINARY_VEC(gelu_backward, return a * gelu_grad(b))
TL_BINARY_VEC(gelu_tanh_backward, return a * gelu_tanh_grad(b))
TL_BINARY_VEC(silu_backward, return a * silu_grad(b))
TL_BINARY_VEC(tanh_backward, return a * (ones() - b * b))
#undef TL_BINARY_VEC

template <TernaryOp Op>
struct TernaryVec;
template <>
struct TernaryVec<TernaryOp::where> {  // where(cond, a, b): a NaN condition counts as true, as in C
  TL_VINLINE static vf apply(vf cond, vf a, vf b) { return select(cond != 0.0f, a, b); }
};
template <>
struct TernaryVec<TernaryOp::affine> {  // a * b is exact in f32 for f16 inputs, so this rounds once
  TL_VINLINE static vf apply(vf a, vf b, vf c) { return a * b + c; }
};

// out[i] = Op(in[i]); the tail goes through a zero-padded buffer, so the loop body has no branches.
template <class Op>
void unary_loop(const half* in, half* out, int64_t n, const UnaryParams& p) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store_f16(out + i, Op::apply(load_f16(in + i), p));
  if (i < n) {
    half buf[kLanes] = {};
    std::memcpy(buf, in + i, static_cast<size_t>(n - i) * sizeof(half));
    store_f16(buf, Op::apply(load_f16(buf), p));
    std::memcpy(out + i, buf, static_cast<size_t>(n - i) * sizeof(half));
  }
}

// Operand k of an n-ary loop at element i: loaded when bit k of Arrays is set, else its splatted scalar.
template <unsigned Arrays, size_t K>
TL_VINLINE vf operand(const half* const* in, const vf* fixed, int64_t i) {
  if constexpr (((Arrays >> K) & 1u) != 0) {
    return load_f16(in[K] + i);
  } else {
    return fixed[K];
  }
}

// out[i] = Op(operands at i) for one combination of array and scalar operands (bit k of Arrays: operand k
// is an array), so the loop body has no branches; the tail goes through zero-padded buffers.
template <class Op, unsigned Arrays, size_t... K>
void nary_loop(const half* const* in, const float* s, half* out, int64_t n, std::index_sequence<K...>) {
  constexpr int kOperands = sizeof...(K);
  const vf fixed[kOperands] = {splat(s[K])...};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store_f16(out + i, Op::apply(operand<Arrays, K>(in, fixed, i)...));
  if (i < n) {
    half buf[kOperands][kLanes] = {};
    const half* tail[kOperands];
    const size_t bytes = static_cast<size_t>(n - i) * sizeof(half);
    for (int k = 0; k < kOperands; ++k) {
      if (in[k]) std::memcpy(buf[k], in[k] + i, bytes);
      tail[k] = buf[k];
    }
    half result[kLanes];
    store_f16(result, Op::apply(operand<Arrays, K>(tail, fixed, 0)...));
    std::memcpy(out + i, result, bytes);
  }
}

// The NaryKernel of Op over `Operands` operands: picks the loop for the operands that are arrays.
template <class Op, int Operands, unsigned... Arrays>
void nary_dispatch(unsigned arrays, const half* const* in, const float* s, half* out, int64_t n,
                   std::integer_sequence<unsigned, Arrays...>) {
  ((arrays == Arrays ? nary_loop<Op, Arrays>(in, s, out, n, std::make_index_sequence<Operands>{}) : void()), ...);
}
template <class Op, int Operands>
void nary_kernel(const half* const* in, const float* s, half* out, int64_t n) {
  unsigned arrays = 0;
  for (int k = 0; k < Operands; ++k) arrays |= static_cast<unsigned>(in[k] != nullptr) << k;
  nary_dispatch<Op, Operands>(arrays, in, s, out, n, std::make_integer_sequence<unsigned, 1u << Operands>{});
}

inline void exp_shifted(float* x, int64_t n, float shift) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(x + i, exp(load(x + i) - shift));
  if (i < n) {
    float buf[kLanes] = {};
    std::memcpy(buf, x + i, static_cast<size_t>(n - i) * sizeof(float));
    store(buf, exp(load(buf) - shift));
    std::memcpy(x + i, buf, static_cast<size_t>(n - i) * sizeof(float));
  }
}

// ---- softmax rows ----------------------------------------------------------------------------------
// v combined with itself moved down W lanes (lane l gets lane l + W, wrapping), for tree reductions in
// log2(kLanes) shuffles rather than a chain of kLanes scalar steps.
template <int W, int... I>
TL_VINLINE vf lanes_down(vf v, std::integer_sequence<int, I...>) {
  return __builtin_shufflevector(v, v, ((I + W) & (kLanes - 1))...);
}
template <int W = kLanes / 2, class F>
TL_VINLINE float lanes_reduce(vf v, F combine) {
  v = combine(v, lanes_down<W>(v, std::make_integer_sequence<int, kLanes>{}));
  if constexpr (W > 1) {
    return lanes_reduce<W / 2>(v, combine);
  } else {
    return v[0];
  }
}
TL_VINLINE float lanes_max(vf v) { return lanes_reduce(v, [](vf a, vf b) { return vmax(a, b); }); }
TL_VINLINE float lanes_sum(vf v) { return lanes_reduce(v, [](vf a, vf b) { return a + b; }); }

// Each of `rows` rows of n contiguous f16 values: softmax, or log_softmax with Log, in f32 and rounded once
// (x: scratch of n + kLanes floats). The tail vector is padded with -inf, which adds nothing to the maximum
// or, as exp(-inf) = 0, to the sum. A NaN, or a +inf maximum (inf - inf), makes the sum and so the whole
// row NaN, as PyTorch's; so does an all -inf row.
template <bool Log>
void softmax_rows(const half* in, half* out, int64_t rows, int64_t n, float* x) {
  const int64_t full = n / kLanes * kLanes, rest = n - full;
  const int64_t vectors = full / kLanes + (rest ? 1 : 0);
  for (int64_t r = 0; r < rows; ++r) {
    const half* src = in + r * n;
    vf m = splat(-__builtin_inff());
    for (int64_t i = 0; i < full; i += kLanes) {
      const vf v = load_f16(src + i);
      store(x + i, v);
      m = vmax(m, v);
    }
    if (rest) {
      half buf[kLanes];
      for (int l = 0; l < kLanes; ++l) buf[l] = half{0xfc00};  // -inf
      std::memcpy(buf, src + full, static_cast<size_t>(rest) * sizeof(half));
      const vf v = load_f16(buf);
      store(x + full, v);
      m = vmax(m, v);
    }
    const float shift = lanes_max(m);
    vf s = splat(0.0f);
    for (int64_t k = 0; k < vectors; ++k) {
      const vf e = exp(load(x + k * kLanes) - shift);
      if constexpr (!Log) store(x + k * kLanes, e);
      s = s + e;
    }
    const float sum = lanes_sum(s);
    // A scalar operand broadcasts in one instruction, where splat() of a run-time value is a lane loop.
    const float scale = Log ? shift + __builtin_logf(sum) : 1.0f / sum;
    half* dst = out + r * n;
    for (int64_t k = 0; k < vectors; ++k) {
      const vf v = load(x + k * kLanes);
      const vf y = Log ? v - scale : v * scale;
      if (k * kLanes < full) {
        store_f16(dst + k * kLanes, y);
      } else {
        half buf[kLanes];
        store_f16(buf, y);
        std::memcpy(dst + full, buf, static_cast<size_t>(rest) * sizeof(half));
      }
    }
  }
}

// x = softmax(scale * x) over n f32 values in place (fused attention's rows of scores); a row whose maximum
// is -inf (every key masked) becomes zeros, PyTorch's safe softmax. The tail vector is loaded padded with
// -inf and stored under a mask.
void scaled_softmax(float* x, int64_t n, float scale) {
  const int64_t full = n / kLanes * kLanes, rest = n - full;
  vf tail = splat(-__builtin_inff());  // the scaled tail; -inf past n whatever the sign of scale
  if (rest) {
    vi lane;
    for (int l = 0; l < kLanes; ++l) lane[l] = l;
    tail = select(lane < splati(static_cast<int32_t>(rest)), load_partial(x + full, rest, 0.0f) * scale, tail);
  }
  vf m = tail;
  for (int64_t i = 0; i < full; i += kLanes) m = vmax(m, load(x + i) * scale);
  const float top = lanes_max(m);
  if (top == -__builtin_inff()) {
    std::memset(x, 0, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  const vf e_tail = exp(tail - top);  // zero past n
  vf s = e_tail;
  for (int64_t i = 0; i < full; i += kLanes) {
    const vf e = exp(load(x + i) * scale - top);
    store(x + i, e);
    s = s + e;
  }
  const float inv = 1.0f / lanes_sum(s);
  for (int64_t i = 0; i < full; i += kLanes) store(x + i, load(x + i) * inv);
  if (rest) store_partial(x + full, rest, e_tail * inv);
}

// ---- reductions: one loop over the rules of ReduceRule ----------------------------------------------
enum class Combine { add, mul, max, min };
template <ReduceRule R>
struct ReduceVec {
  static constexpr bool exists = false;
};
// IDENTITY: the accumulators' start; COMBINE: how accumulators merge; NAN: steps skip NaN checks and a
// lane mask records NaNs instead (one max per step rather than a compare-and-blend chain).
#define TL_REDUCE_VEC(RULE, IDENTITY, COMBINE, NAN, ...)                        \
  template <>                                                                  \
  struct ReduceVec<ReduceRule::RULE> {                                         \
    static constexpr bool exists = true;                                       \
    static constexpr float identity = IDENTITY;                                \
    static constexpr Combine combine = Combine::COMBINE;                       \
    static constexpr bool nan_flag = NAN;                                      \
    TL_VINLINE static vf step(vf a, vf x, [[maybe_unused]] vf c) { __VA_ARGS__; } \
  };
TL_REDUCE_VEC(sum, 0.0f, add, false, return a + x)
TL_REDUCE_VEC(prod, 1.0f, mul, false, return a * x)
TL_REDUCE_VEC(max, -__builtin_inff(), max, true, return x > a ? x : a)
TL_REDUCE_VEC(min, __builtin_inff(), min, true, return x < a ? x : a)
TL_REDUCE_VEC(sum_sq, 0.0f, add, false, return a + x * x)
TL_REDUCE_VEC(sum_abs, 0.0f, add, false, return a + vabs(x))
TL_REDUCE_VEC(max_abs, 0.0f, max, true, return vabs(x) > a ? vabs(x) : a)
TL_REDUCE_VEC(min_abs, __builtin_inff(), min, true, return vabs(x) < a ? vabs(x) : a)
TL_REDUCE_VEC(count_nonzero, 0.0f, add, false, return a + mask_to_float(x != 0.0f))
TL_REDUCE_VEC(sum_sq_dev, 0.0f, add, false, return a + (x - c) * (x - c))
TL_REDUCE_VEC(sum_exp, 0.0f, add, false, return a + exp(x - c))
#undef TL_REDUCE_VEC

template <Combine C, class T>  // T: vf or float
TL_VINLINE T combine(T a, T b) {
  if constexpr (C == Combine::add) return a + b;
  if constexpr (C == Combine::mul) return a * b;
  if constexpr (C == Combine::max) return a > b ? a : b;  // NaNs are tracked apart (nan_flag)
  if constexpr (C == Combine::min) return a < b ? a : b;
}

// Four vector accumulators hide the latency of each step; the tail steps only its valid lanes.
template <ReduceRule R>
float reduce_loop(const half* in, int64_t n, float centre) {
  using Op = ReduceVec<R>;
  const vf c = splat(centre);
  vf acc[4] = {splat(Op::identity), splat(Op::identity), splat(Op::identity), splat(Op::identity)};
  vi nan = splati(0);
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    for (int k = 0; k < 4; ++k) {
      const vf x = load_f16(in + i + k * kLanes);
      acc[k] = Op::step(acc[k], x, c);
      if constexpr (Op::nan_flag) nan |= isnan(x);
    }
  }
  for (; i + kLanes <= n; i += kLanes) {
    const vf x = load_f16(in + i);
    acc[0] = Op::step(acc[0], x, c);
    if constexpr (Op::nan_flag) nan |= isnan(x);
  }
  if (i < n) {
    half buf[kLanes] = {};
    std::memcpy(buf, in + i, static_cast<size_t>(n - i) * sizeof(half));
    const vf x = load_f16(buf);
    vi lane;
    for (int l = 0; l < kLanes; ++l) lane[l] = l;
    const vi valid = lane < splati(static_cast<int32_t>(n - i));
    acc[1] = select(valid, Op::step(acc[1], x, c), acc[1]);
    if constexpr (Op::nan_flag) nan |= valid & isnan(x);
  }
  constexpr Combine kC = Op::combine;
  float lanes[kLanes];
  store(lanes, combine<kC>(combine<kC>(acc[0], acc[1]), combine<kC>(acc[2], acc[3])));
  for (int w = kLanes / 2; w >= 1; w /= 2) {
    for (int l = 0; l < w; ++l) lanes[l] = combine<kC>(lanes[l], lanes[l + w]);
  }
  if constexpr (Op::nan_flag) {
    for (int l = 0; l < kLanes; ++l) {
      if (nan[l]) return __builtin_nanf("");
    }
  }
  return lanes[0];
}

// Steps `vectors` vectors of columns down the rows from the identity, then merges them into acc (a NaN
// seen in a column makes it NaN). Columns past `valid` (a partial last vector) are read from zero padding
// and never stored.
template <ReduceRule R, int kVectors>
TL_VINLINE void column_strip(const half* in, int64_t stride, int64_t rows, const float* centre, float* acc,
                             int64_t valid) {
  using Op = ReduceVec<R>;
  constexpr Combine kC = Op::combine;
  constexpr int64_t kWidth = kVectors * kLanes;
  float cbuf[kWidth] = {}, abuf[kWidth];
  const bool partial = valid < kWidth;
  if (centre) std::memcpy(cbuf, centre, static_cast<size_t>(valid) * sizeof(float));
  std::memcpy(abuf, acc, static_cast<size_t>(valid) * sizeof(float));
  vf a[kVectors], c[kVectors];
  vi nan[kVectors];
  for (int k = 0; k < kVectors; ++k) {
    a[k] = splat(Op::identity);
    c[k] = load(cbuf + k * kLanes);
    nan[k] = splati(0);
  }
  half tail[kWidth] = {};
  for (int64_t j = 0; j < rows; ++j) {
    const half* row = in + j * stride;
    if (partial) {
      std::memcpy(tail, row, static_cast<size_t>(valid) * sizeof(half));
      row = tail;
    }
    for (int k = 0; k < kVectors; ++k) {
      const vf x = load_f16(row + k * kLanes);
      a[k] = Op::step(a[k], x, c[k]);
      if constexpr (Op::nan_flag) nan[k] |= isnan(x);
    }
  }
  for (int k = 0; k < kVectors; ++k) {
    const vf before = load(abuf + k * kLanes);
    vf merged = combine<kC>(before, a[k]);
    if constexpr (Op::nan_flag) merged = select(nan[k] | isnan(before), splat(__builtin_nanf("")), merged);
    store(abuf + k * kLanes, merged);
  }
  std::memcpy(acc, abuf, static_cast<size_t>(valid) * sizeof(float));
}

template <ReduceRule R>
void column_loop(const half* in, int64_t stride, int64_t rows, int64_t width, const float* centre, float* acc) {
  int64_t s = 0;
  for (; s + 4 * kLanes <= width; s += 4 * kLanes) {
    column_strip<R, 4>(in + s, stride, rows, centre ? centre + s : nullptr, acc + s, 4 * kLanes);
  }
  for (; s < width; s += kLanes) {
    column_strip<R, 1>(in + s, stride, rows, centre ? centre + s : nullptr, acc + s, std::min<int64_t>(kLanes, width - s));
  }
}

template <int I>
ReduceKernel reduce_entry() {
  if constexpr (ReduceVec<static_cast<ReduceRule>(I)>::exists) return &reduce_loop<static_cast<ReduceRule>(I)>;
  return nullptr;
}
template <int I>
ColumnKernel column_entry() {
  if constexpr (ReduceVec<static_cast<ReduceRule>(I)>::exists) return &column_loop<static_cast<ReduceRule>(I)>;
  return nullptr;
}

template <int I>
UnaryKernel unary_entry() {
  if constexpr (UnaryVec<static_cast<UnaryOp>(I)>::exists) return &unary_loop<UnaryVec<static_cast<UnaryOp>(I)>>;
  return nullptr;
}
template <int I>
NaryKernel binary_entry() {
  if constexpr (BinaryVec<static_cast<BinaryOp>(I)>::exists) return &nary_kernel<BinaryVec<static_cast<BinaryOp>(I)>, 2>;
  return nullptr;
}
template <int... I, int... J, int... K>
void fill(Table& t, std::integer_sequence<int, I...>, std::integer_sequence<int, J...>, std::integer_sequence<int, K...>) {
  ((t.unary[I] = unary_entry<I>()), ...);
  ((t.binary[J] = binary_entry<J>()), ...);
  ((t.reduce[K] = reduce_entry<K>()), ...);
  ((t.columns[K] = column_entry<K>()), ...);
}
inline void fill(Table& t) {
  fill(t, std::make_integer_sequence<int, kUnaryOpCount>{}, std::make_integer_sequence<int, kBinaryOpCount>{},
       std::make_integer_sequence<int, kReduceRules>{});
  t.ternary[static_cast<int>(TernaryOp::where)] = &nary_kernel<TernaryVec<TernaryOp::where>, 3>;
  t.ternary[static_cast<int>(TernaryOp::affine)] = &nary_kernel<TernaryVec<TernaryOp::affine>, 3>;
  t.exp_shifted = &exp_shifted;
  t.softmax_rows[0] = &softmax_rows<false>;
  t.softmax_rows[1] = &softmax_rows<true>;
  t.scaled_softmax = &scaled_softmax;
}
