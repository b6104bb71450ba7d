// scaled_dot_product_attention with PyTorch's semantics (batch broadcasting, additive float mask,
// top-left causal mask, default scale 1/sqrt(E)); one fused backend kernel, rounded once. Its fused
// backward for q, k and v where the backend has one; autograd composes it from other ops elsewhere.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "backend.h"
#include "batching.h"
#include "generator.h"
#include "philox.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {
namespace {

Array as_float(const Array& a) { return a.dtype() == Dtype::float16 ? a : astype(a, Dtype::float16); }

Shape with_batch(const Shape& batch, const Shape& tail) {
  Shape s = batch;
  s.insert(s.end(), tail.begin(), tail.end());
  return s;
}

// An uninitialised f16 array of `shape` whose axes lie in memory in the order of the strides of `like`
// (an array's shape and strides, same rank), as PyTorch's empty_like: heads split from one projection and
// viewed as [B, H, L, E] give an output (and gradients) that the transpose back to [B, L, H, E] reads
// contiguously, with no copy. Contiguous where `like` is broadcast along an axis or its last axis is not
// its innermost.
Array empty_laid_out_as(const Shape& shape, const Shape& like, const Strides& like_strides, Device device) {
  const int n = static_cast<int>(like.size());
  std::vector<int> order(n);  // axes, outermost first
  std::iota(order.begin(), order.end(), 0);
  for (int d = 0; d < n; ++d) {
    if (like[d] > 1 && like_strides[d] == 0) return Array::empty(shape, Dtype::float16, device);
  }
  const auto key = [&](int d) {  // a size-1 axis may lie anywhere: outermost
    return like[d] == 1 ? std::numeric_limits<int64_t>::max() : like_strides[d];
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) > key(b); });
  if (n == 0 || order.back() != n - 1) return Array::empty(shape, Dtype::float16, device);
  Strides strides(n);
  int64_t step = 1;
  for (int i = n; i-- > 0;) {
    strides[order[i]] = step;
    step *= shape[order[i]];
  }
  return Array::empty({step}, Dtype::float16, device).view_as(shape, strides, 0);
}

Array empty_laid_out_as(const Shape& shape, const Array& like, Device device) {
  return empty_laid_out_as(shape, like.shape(), like.strides(), device);
}

// The operands of one attention call with their batch axes broadcast to one shape (views, no copies).
struct Operands {
  Array q, k, v, mask;  // mask undefined when absent
  Shape batch;
  int64_t len, keys, e, ev;
  float scale;
};

Operands broadcast_operands(const char* op, const Array& q_in, const Array& k_in, const Array& v_in,
                            const std::optional<Array>& mask_in, std::optional<double> scale) {
  auto shapes = [&] { return shape_str(q_in.shape()) + ", " + shape_str(k_in.shape()) + " and " + shape_str(v_in.shape()); };
  if (q_in.ndim() < 2 || k_in.ndim() < 2 || v_in.ndim() < 2) {
    throw ShapeMismatchError(std::string(op) + ": query, key and value need at least 2 dimensions, got " + shapes());
  }
  Operands x;
  x.len = q_in.shape().end()[-2], x.e = q_in.shape().back();
  x.keys = k_in.shape().end()[-2], x.ev = v_in.shape().back();
  if (k_in.shape().back() != x.e || v_in.shape().end()[-2] != x.keys) {
    throw ShapeMismatchError(std::string(op) + ": query [..., L, E], key [..., S, E] and value [..., S, Ev] do not match: " +
                             shapes());
  }
  auto batch_of = [](const Array& a, int tail) { return Shape(a.shape().begin(), a.shape().end() - tail); };
  try {
    x.batch = broadcast_shapes(broadcast_shapes(batch_of(q_in, 2), batch_of(k_in, 2), op), batch_of(v_in, 2), op);
    if (mask_in) {
      const Shape full = broadcast_shapes(mask_in->shape(), Shape{x.len, x.keys}, op);
      if (full.end()[-2] != x.len || full.end()[-1] != x.keys) throw ShapeMismatchError("");
      x.batch = broadcast_shapes(x.batch, batch_of(mask_in->ndim() >= 2 ? *mask_in : unsqueeze(*mask_in, 0), 2), op);
    }
  } catch (const ShapeMismatchError&) {
    throw ShapeMismatchError(std::string(op) + ": batch dimensions of " + shapes() +
                             (mask_in ? " and mask " + shape_str(mask_in->shape()) : std::string()) +
                             " cannot be broadcast together");
  }
  x.q = expand(as_float(q_in), with_batch(x.batch, {x.len, x.e}));
  x.k = expand(as_float(k_in), with_batch(x.batch, {x.keys, x.e}));
  x.v = expand(as_float(v_in), with_batch(x.batch, {x.keys, x.ev}));
  if (mask_in) x.mask = expand(as_float(*mask_in), with_batch(x.batch, {x.len, x.keys}));
  x.scale = static_cast<float>(scale ? *scale : 1.0 / std::sqrt(static_cast<double>(x.e)));
  return x;
}

// dq, dk and dv as the three parts of one array where q, k and v are three equally spaced views of one
// storage with one shape and strides (GPT's q, k and v split from one [B, T, 3C] projection), laid out as
// that projection is: the split's backward then joins the gradients without a copy (join_adjacent).
std::optional<std::vector<Array>> joint_gradients(const Operands& x) {
  const Array &q = x.q, &k = x.k, &v = x.v;
  if (q.storage() != k.storage() || q.storage() != v.storage() || q.shape() != k.shape() || q.shape() != v.shape() ||
      q.strides() != k.strides() || q.strides() != v.strides()) {
    return std::nullopt;
  }
  const int64_t step = k.offset() - q.offset();
  if (step <= 0 || v.offset() - k.offset() != step) return std::nullopt;
  Shape shape{3};
  Strides strides{step};
  shape.insert(shape.end(), q.shape().begin(), q.shape().end());
  strides.insert(strides.end(), q.strides().begin(), q.strides().end());
  const Array all = empty_laid_out_as(shape, shape, strides, q.device());
  const Strides part(all.strides().begin() + 1, all.strides().end());
  std::vector<Array> grads;
  for (int i = 0; i < 3; ++i) grads.push_back(all.view_as(q.shape(), part, all.offset() + i * all.strides()[0]));
  return grads;
}

// Counters per row of probabilities: one per four keys (philox.h's attention dropout).
uint64_t counters_per_row(int64_t keys) { return static_cast<uint64_t>((keys + 3) / 4); }

// A probability is kept when its word >= floor(p * 2^32); 2^32 (p = 1) keeps none.
uint64_t keep_threshold(double p) {
  return p >= 1.0 ? uint64_t{1} << 32 : static_cast<uint64_t>(std::floor(p * 4294967296.0));
}

void check_dropout_p(const char* op, double p) {
  if (!(p >= 0.0 && p <= 1.0)) throw ArgumentError(std::string(op) + ": dropout_p must be in [0, 1], got " + std::to_string(p));
}

// The backend's form of a dropout, for the call whose first (flat) batch index is `batch`: p = 1 keeps no
// probability, which a scale of 0 gives whatever the words (the threshold saturates at 2^32 - 1).
Backend::Dropout kernel_dropout(const AttentionDropout& d, const Operands& x, int64_t batch) {
  const uint64_t threshold = std::min<uint64_t>(keep_threshold(d.p), 0xffffffffull);
  const float scale = d.p >= 1.0 ? 0.0f : static_cast<float>(1.0 / (1.0 - d.p));
  return Backend::Dropout{d.seed, d.offset, static_cast<uint32_t>(threshold), scale}.from_batch(batch, x.len, x.keys);
}

// The flat batch count of one backend call's [B0, B1, ...] operand.
int64_t call_batches(const Array& a) { return a.shape()[0] * a.shape()[1]; }

}  // namespace

AttentionDropout attention_dropout_draw(const Array& q, const Array& k, const Array& v, const std::optional<Array>& mask,
                                        double p) {
  const char* op = "scaled_dot_product_attention";
  check_dropout_p(op, p);
  const Operands x = broadcast_operands(op, q, k, v, mask, std::nullopt);
  const int64_t batches = std::accumulate(x.batch.begin(), x.batch.end(), int64_t{1}, std::multiplies<int64_t>());
  const auto [seed, offset] =
      reserve_counters(static_cast<uint64_t>(batches) * static_cast<uint64_t>(x.len) * counters_per_row(x.keys));
  return {p, seed, offset};
}

Array attention_dropout_keep(const Shape& probs, const AttentionDropout& dropout, Device device) {
  const char* op = "attention_dropout_keep";
  check_dropout_p(op, dropout.p);
  if (probs.size() < 2) throw ArgumentError(std::string(op) + ": expected a shape [..., L, S], got " + shape_str(probs));
  int64_t n = 1;
  for (int64_t d : probs) {
    if (d < 0) throw ArgumentError(std::string(op) + ": negative dimension in shape " + shape_str(probs));
    if (d > 0 && n > kMaxBytes / static_cast<int64_t>(sizeof(uint16_t)) / d) {
      throw OutOfMemoryError(std::string(op) + ": shape " + shape_str(probs) + " exceeds the addressable memory");
    }
    n *= d;
  }
  const int64_t keys = probs.back();
  const uint64_t keys4 = counters_per_row(keys), threshold = keep_threshold(dropout.p);
  std::vector<uint16_t> bits(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t row = static_cast<uint64_t>(i / keys);
    const unsigned key = static_cast<unsigned>(i % keys);
    const bool keep = tl_dropout_word(dropout.seed, dropout.offset, row, keys4, key) >= threshold;
    bits[static_cast<size_t>(i)] = keep ? 0x3c00 : 0;  // f16 1.0 and 0.0
  }
  return from_host(bits.data(), probs, Dtype::float16, device);
}

std::optional<std::pair<Array, std::optional<Array>>> scaled_dot_product_attention_dropout(
    const Array& q_in, const Array& k_in, const Array& v_in, const std::optional<Array>& mask_in, bool causal,
    std::optional<double> scale, const AttentionDropout& dropout) {
  const char* op = "scaled_dot_product_attention";
  Backend& backend = backend_of(op, {&q_in, &k_in, &v_in, mask_in ? &*mask_in : nullptr});
  if (causal && mask_in) throw ArgumentError(std::string(op) + ": pass either attn_mask or is_causal, not both");
  check_dropout_p(op, dropout.p);
  const Operands x = broadcast_operands(op, q_in, k_in, v_in, mask_in, scale);
  Array out = empty_laid_out_as(with_batch(x.batch, {x.len, x.ev}), x.q, x.q.device());
  if (out.numel() == 0) return std::make_pair(out, std::optional<Array>());
  Array stats = Array::empty(with_batch(x.batch, {x.len}), Dtype::int32, x.q.device());
  bool kept = true, taken = true;  // a batch the backend keeps no statistics for drops them all
  int64_t batch = 0;
  for_each_batch({&x.q, &x.k, &x.v, mask_in ? &x.mask : nullptr, &out, &stats}, static_cast<int>(x.batch.size()), 2,
                 [&](const std::vector<Array>& a) {
                   const Array* mask = mask_in ? &a[3] : nullptr;
                   const Backend::Dropout d = kernel_dropout(dropout, x, batch);
                   batch += call_batches(a[0]);
                   if (!taken) return;
                   if (kept && backend.attention_dropout(a[0], a[1], a[2], mask, causal, x.scale, d, a[4], &a[5])) return;
                   kept = false;
                   taken = backend.attention_dropout(a[0], a[1], a[2], mask, causal, x.scale, d, a[4], nullptr);
                 });
  if (!taken) return std::nullopt;
  return std::make_pair(out, kept ? std::optional<Array>(stats) : std::nullopt);
}

std::pair<Array, std::optional<Array>> scaled_dot_product_attention_keeping_stats(
    const Array& q_in, const Array& k_in, const Array& v_in, const std::optional<Array>& mask_in, bool causal,
    std::optional<double> scale) {
  const char* op = "scaled_dot_product_attention";
  Backend& backend = backend_of(op, {&q_in, &k_in, &v_in, mask_in ? &*mask_in : nullptr});
  if (causal && mask_in) throw ArgumentError(std::string(op) + ": pass either attn_mask or is_causal, not both");
  const Operands x = broadcast_operands(op, q_in, k_in, v_in, mask_in, scale);
  Array out = empty_laid_out_as(with_batch(x.batch, {x.len, x.ev}), x.q, x.q.device());
  if (out.numel() == 0) return {out, std::nullopt};
  Array stats = Array::empty(with_batch(x.batch, {x.len}), Dtype::int32, x.q.device());
  bool kept = true;  // a batch the backend keeps no statistics for drops them all
  for_each_batch({&x.q, &x.k, &x.v, mask_in ? &x.mask : nullptr, &out, &stats}, static_cast<int>(x.batch.size()), 2,
                 [&](const std::vector<Array>& a) {
                   const Array* mask = mask_in ? &a[3] : nullptr;
                   if (!(kept && backend.attention_keeping_stats(a[0], a[1], a[2], mask, causal, x.scale, a[4], a[5]))) {
                     kept = false;
                     backend.attention(a[0], a[1], a[2], mask, causal, x.scale, a[4]);
                   }
                 });
  return {out, kept ? std::optional<Array>(stats) : std::nullopt};
}

Array scaled_dot_product_attention(const Array& q_in, const Array& k_in, const Array& v_in,
                                   const std::optional<Array>& mask_in, bool causal, std::optional<double> scale) {
  const char* op = "scaled_dot_product_attention";
  Backend& backend = backend_of(op, {&q_in, &k_in, &v_in, mask_in ? &*mask_in : nullptr});
  if (causal && mask_in) throw ArgumentError(std::string(op) + ": pass either attn_mask or is_causal, not both");
  const Operands x = broadcast_operands(op, q_in, k_in, v_in, mask_in, scale);
  Array out = empty_laid_out_as(with_batch(x.batch, {x.len, x.ev}), x.q, x.q.device());
  if (out.numel() == 0) return out;
  for_each_batch({&x.q, &x.k, &x.v, mask_in ? &x.mask : nullptr, &out}, static_cast<int>(x.batch.size()), 2,
                 [&](const std::vector<Array>& a) {
                   backend.attention(a[0], a[1], a[2], mask_in ? &a[3] : nullptr, causal, x.scale, a[4]);
                 });
  return out;
}

std::optional<std::vector<Array>> scaled_dot_product_attention_backward(const Array& q_in, const Array& k_in,
                                                                        const Array& v_in,
                                                                        const std::optional<Array>& mask_in,
                                                                        const Array& grad_in, bool causal,
                                                                        std::optional<double> scale,
                                                                        const std::optional<Array>& saved_out,
                                                                        const std::optional<Array>& saved_stats,
                                                                        const std::optional<AttentionDropout>& dropout) {
  const char* op = "scaled_dot_product_attention_backward";
  Backend& backend = backend_of(op, {&q_in, &k_in, &v_in, mask_in ? &*mask_in : nullptr, &grad_in});
  if (causal && mask_in) throw ArgumentError(std::string(op) + ": pass either attn_mask or is_causal, not both");
  const Operands x = broadcast_operands(op, q_in, k_in, v_in, mask_in, scale);
  const Shape out_shape = with_batch(x.batch, {x.len, x.ev});
  if (grad_in.shape() != out_shape) {
    throw ShapeMismatchError(std::string(op) + ": the gradient " + shape_str(grad_in.shape()) +
                             " does not have the output's shape " + shape_str(out_shape));
  }
  Array grad = as_float(grad_in);
  if (grad.ndim() > 0 && grad.shape().back() > 1 && grad.strides().back() != 1) grad = contiguous(grad);  // rows
  const Device device = x.q.device();
  std::vector<Array> grads;
  if (auto joint = joint_gradients(x)) {
    grads = std::move(*joint);
  } else {
    grads = {empty_laid_out_as(with_batch(x.batch, {x.len, x.e}), x.q, device),
             empty_laid_out_as(with_batch(x.batch, {x.keys, x.e}), x.k, device),
             empty_laid_out_as(with_batch(x.batch, {x.keys, x.ev}), x.v, device)};
  }
  if (grads[0].numel() == 0 || grads[1].numel() == 0 || grads[2].numel() == 0) return std::nullopt;
  // Batches the backend declines (their views' alignment can differ) send the whole call back to the
  // caller; the gradients are fresh arrays, so what was written is simply dropped.
  const bool with_saved = saved_out && saved_stats;
  // the dtypes too: float16 stats of the right shape were read as int32 words, twice their bytes
  if (with_saved && (saved_out->shape() != out_shape || saved_stats->shape() != with_batch(x.batch, {x.len}) ||
                     saved_out->dtype() != Dtype::float16 || saved_stats->dtype() != Dtype::int32)) {
    throw ShapeMismatchError(std::string(op) + ": the saved output " + shape_str(saved_out->shape()) + " and stats " +
                             shape_str(saved_stats->shape()) + " do not belong to this call");
  }
  if (dropout) check_dropout_p(op, dropout->p);
  bool taken = true;
  int64_t batch = 0;
  for_each_batch({&x.q, &x.k, &x.v, mask_in ? &x.mask : nullptr, &grad, &grads[0], &grads[1], &grads[2],
                  with_saved ? &*saved_out : nullptr, with_saved ? &*saved_stats : nullptr},
                 static_cast<int>(x.batch.size()), 2, [&](const std::vector<Array>& a) {
                   const Backend::AttentionSaved saved{a[8], a[9]};
                   const Backend::Dropout d = dropout ? kernel_dropout(*dropout, x, batch) : Backend::Dropout{};
                   batch += call_batches(a[0]);
                   taken = taken && backend.attention_backward(a[0], a[1], a[2], mask_in ? &a[3] : nullptr, a[4],
                                                               causal, x.scale, with_saved ? &saved : nullptr,
                                                               dropout ? &d : nullptr, a[5], a[6], a[7]);
                 });
  if (!taken) return std::nullopt;
  return grads;
}

}  // namespace tensorlogic
