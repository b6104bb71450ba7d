// scaled_dot_product_attention with PyTorch's semantics (batch broadcasting, additive float mask,
// top-left causal mask, default scale 1/sqrt(E)); one fused backend kernel, rounded once.
#include <cmath>
#include <string>

#include "backend.h"
#include "batching.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {

Array scaled_dot_product_attention(const Array& q_in, const Array& k_in, const Array& v_in,
                                   const std::optional<Array>& mask_in, bool causal, std::optional<double> scale) {
  const char* op = "scaled_dot_product_attention";
  Backend& backend = backend_of(op, {&q_in, &k_in, &v_in, mask_in ? &*mask_in : nullptr});
  auto shapes = [&] { return shape_str(q_in.shape()) + ", " + shape_str(k_in.shape()) + " and " + shape_str(v_in.shape()); };
  if (q_in.ndim() < 2 || k_in.ndim() < 2 || v_in.ndim() < 2) {
    throw ShapeMismatchError(std::string(op) + ": query, key and value need at least 2 dimensions, got " + shapes());
  }
  const int64_t len = q_in.shape().end()[-2], e = q_in.shape().back();
  const int64_t keys = k_in.shape().end()[-2], ev = v_in.shape().back();
  if (k_in.shape().back() != e || v_in.shape().end()[-2] != keys) {
    throw ShapeMismatchError(std::string(op) + ": query [..., L, E], key [..., S, E] and value [..., S, Ev] do not match: " +
                             shapes());
  }
  if (causal && mask_in) throw ArgumentError(std::string(op) + ": pass either attn_mask or is_causal, not both");
  auto batch_of = [](const Array& a, int tail) { return Shape(a.shape().begin(), a.shape().end() - tail); };
  Shape batch;
  try {
    batch = broadcast_shapes(broadcast_shapes(batch_of(q_in, 2), batch_of(k_in, 2), op), batch_of(v_in, 2), op);
    if (mask_in) {
      const Shape full = broadcast_shapes(mask_in->shape(), Shape{len, keys}, op);
      if (full.end()[-2] != len || full.end()[-1] != keys) throw ShapeMismatchError("");
      batch = broadcast_shapes(batch, batch_of(mask_in->ndim() >= 2 ? *mask_in : unsqueeze(*mask_in, 0), 2), op);
    }
  } catch (const ShapeMismatchError&) {
    throw ShapeMismatchError(std::string(op) + ": batch dimensions of " + shapes() +
                             (mask_in ? " and mask " + shape_str(mask_in->shape()) : std::string()) +
                             " cannot be broadcast together");
  }
  auto with = [&](Shape tail_shape) {
    Shape s = batch;
    s.insert(s.end(), tail_shape.begin(), tail_shape.end());
    return s;
  };
  auto as_float = [](const Array& a) { return a.dtype() == Dtype::float16 ? a : astype(a, Dtype::float16); };
  const Array q = expand(as_float(q_in), with({len, e}));
  const Array k = expand(as_float(k_in), with({keys, e}));
  const Array v = expand(as_float(v_in), with({keys, ev}));
  Array mask;
  if (mask_in) mask = expand(as_float(*mask_in), with({len, keys}));
  Array out = Array::empty(with({len, ev}), Dtype::float16, q.device());
  if (out.numel() == 0) return out;
  const float s = static_cast<float>(scale ? *scale : 1.0 / std::sqrt(static_cast<double>(e)));
  for_each_batch({&q, &k, &v, mask_in ? &mask : nullptr, &out}, static_cast<int>(batch.size()),
                 [&](const std::vector<Array>& x) {
                   backend.attention(x[0], x[1], x[2], mask_in ? &x[3] : nullptr, causal, s, x[4]);
                 });
  return out;
}

}  // namespace tensorlogic
