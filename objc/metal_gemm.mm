// GEMM with its fused epilogue and the fused attention kernel on Metal (metal/gemm.metal, attention.metal).
#include "../cpp/core/batching.h"
#include "metal_launch.h"

namespace tensorlogic::metal {

void MetalBackend::gemm(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) {
  params::GemmParams p{};
  p.batch = out.dim(0);
  p.m = out.dim(1);
  p.n = out.dim(2);
  p.k = a.dim(2);
  set_strides3(p.a_strides, a);
  set_strides3(p.b_strides, b);
  if (epilogue.bias) {
    const Array& bias = *epilogue.bias;
    if (bias.ndim() == 1) {
      p.bias_strides[2] = bias.strides()[0];
    } else {
      set_strides3(p.bias_strides, bias);
    }
  }
  if (epilogue.residual) set_strides3(p.res_strides, *epilogue.residual);
  // 32x32 tiles (4 simdgroups) once both sides fill them; 16x16 keeps small or skinny problems busy.
  const uint32_t tile = (p.m >= 64 && p.n >= 64) ? 32 : 16;
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "gemm", "gemm", {uint_constant(0, tile), bool_constant(1, epilogue.bias != nullptr),
                       bool_constant(2, epilogue.residual != nullptr),
                       uint_constant(3, static_cast<uint32_t>(epilogue.activation))});
  const NSUInteger threads = (tile / 16) * (tile / 16) * 32;
  const MTLSize groups = MTLSizeMake(static_cast<NSUInteger>((p.n + tile - 1) / tile),
                                     static_cast<NSUInteger>((p.m + tile - 1) / tile), static_cast<NSUInteger>(p.batch));
  run_kernel(context_, pipeline,
             {a, b, out, epilogue.bias ? *epilogue.bias : out, epilogue.residual ? *epilogue.residual : out}, p, groups,
             threads);
}

void MetalBackend::attention(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal,
                             float scale, const Array& out) {
  // One dispatch per index of the outer batch axis where the two do not merge (the kernel takes one).
  for_each_batch({&q, &k, &v, mask, &out}, 2, [&](const std::vector<Array>& a) {
    attention_3d(a[0], a[1], a[2], mask ? &a[3] : nullptr, causal, scale, a[4]);
  });
}

void MetalBackend::attention_3d(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal,
                                float scale, const Array& out) {
  constexpr int64_t kBlock = 128, kColumnsPerGroup = 128 * 4;  // attention.metal's BLOCK * MAX_DV_PER_THREAD
  params::AttentionParams p{};
  p.batch = q.dim(0);
  p.l = q.dim(1);
  p.s = k.dim(1);
  p.d = q.dim(2);
  p.dv = v.dim(2);
  set_strides3(p.q_strides, q);
  set_strides3(p.k_strides, k);
  set_strides3(p.v_strides, v);
  if (mask) set_strides3(p.mask_strides, *mask);  // p{} leaves them 0 otherwise
  set_strides3(p.out_strides, out);
  p.scale = scale;
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("attention", "attention", {bool_constant(0, causal), bool_constant(1, mask != nullptr)});
  const MTLSize groups = MTLSizeMake(checked_groups(p.batch * p.l, 1, "attention"),
                                     static_cast<NSUInteger>((p.dv + kColumnsPerGroup - 1) / kColumnsPerGroup), 1);
  run_kernel(context_, pipeline, {q, k, v, mask ? *mask : q, out}, p, groups, kBlock);
}

}  // namespace tensorlogic::metal
