// Indexing (blocks moved at element offsets) and tril/triu on Metal (metal/indexing.metal, tri.metal).
#include "metal_launch.h"

#include <algorithm>
#include <vector>
#include "tensorlogic/errors.h"

namespace tensorlogic::metal {

void MetalBackend::index_gather(const Array& src, const std::vector<int64_t>& offsets, const Array& out) {
  if (offsets.empty() || out.numel() == 0) return;
  const auto g = block_params("index", src);
  params::BlockParams p{};
  p.blocks = static_cast<long>(offsets.size());
  const Array device_offsets = upload(offsets.data(), offsets.size() * sizeof(int64_t));
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("indexing", "index_gather_u" + std::to_string(8 * src.itemsize()), {});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    const NSUInteger next = launch.bind_all({src, device_offsets, out});
    set_params(encoder, g, next);
    set_params(encoder, p, next + 1);
    launch.run_1d(pipeline, out.numel(), "index");
  });
}

void MetalBackend::index_scatter(const Array& values, const std::vector<int64_t>& offsets, const Array& dst,
                                 bool accumulate) {
  if (offsets.empty() || dst.numel() == 0) return;
  // Segments of equal offsets in block order (a stable sort), so that one thread owns each destination.
  std::vector<int32_t> order(offsets.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::stable_sort(order.begin(), order.end(), [&](int32_t x, int32_t y) { return offsets[x] < offsets[y]; });
  std::vector<int64_t> seg_offsets;
  std::vector<int32_t> seg_starts;
  for (size_t j = 0; j < order.size(); ++j) {
    if (j == 0 || offsets[order[j]] != offsets[order[j - 1]]) {
      seg_offsets.push_back(offsets[order[j]]);
      seg_starts.push_back(static_cast<int32_t>(j));
    }
  }
  seg_starts.push_back(static_cast<int32_t>(order.size()));
  const auto g = block_params("index_put", dst);
  params::BlockParams p{};
  p.blocks = static_cast<long>(offsets.size());
  p.segments = static_cast<long>(seg_offsets.size());
  const Array device_offsets = upload(seg_offsets.data(), seg_offsets.size() * sizeof(int64_t));
  const Array device_starts = upload(seg_starts.data(), seg_starts.size() * sizeof(int32_t));
  const Array device_order = upload(order.data(), order.size() * sizeof(int32_t));
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "indexing", std::string("index_scatter_") + dtype_short_name(dst.dtype()),
      {bool_constant(0, accumulate)});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    const NSUInteger next = launch.bind_all({values, device_offsets, device_starts, device_order, dst});
    set_params(encoder, g, next);
    set_params(encoder, p, next + 1);
    launch.run_1d(pipeline, p.segments * g.numel, "index_put");
  });
}

void MetalBackend::tri(const Array& in, int64_t k, bool upper, const Array& out) {
  // The row/column of an element come from the last two dims, so those are never merged away.
  const Strides* operands[4] = {&in.strides(), nullptr, nullptr, &out.strides()};
  params::ElementwiseParams p{};
  if (out.ndim() > TL_MAX_DIMS) throw DeviceError("metal: tril/triu on more than 8 dims (flatten the batch dims first)");
  p.ndim = out.ndim();
  p.numel = out.numel();
  for (int d = 0; d < out.ndim(); ++d) {
    p.shape[d] = out.dim(d);
    p.strides[0][d] = (*operands[0])[d];
    p.strides[3][d] = (*operands[3])[d];
  }
  p.k = k;
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("tri", "tri_u" + std::to_string(8 * in.itemsize()), {bool_constant(0, upper)});
  run_kernel_1d(context_, pipeline, {in, out}, p, p.numel, upper ? "triu" : "tril");
}

}  // namespace tensorlogic::metal
