// The ordering families on Metal (metal/sort.metal, scan.metal, search.metal): argsort as a block sort
// and merge passes, scans and flatnonzero as block scans, searchsorted and take_rows one thread per
// output. Each call's dispatches are encoded in order into the open command buffer, like every kernel;
// only flatnonzero waits, since its count sizes the result.
#include "metal_launch.h"

#include <string>
#include <vector>
#include "tensorlogic/errors.h"

namespace tensorlogic::metal {
namespace {

constexpr int64_t kSortPerThread = 4;       // sort.metal's block: 4 keys per thread (SORT_MAX_BLOCK / 256)
constexpr NSUInteger kScanThreads = 256;    // scan.metal's SCAN_MAX_THREADS
constexpr int64_t kScanBlock = 4 * kScanThreads;  // elements per block scan: 4 per thread

MTLSize groups_2d(int64_t x, int64_t y, const char* op) {
  if (y > static_cast<int64_t>(UINT32_MAX)) throw DeviceError(std::string("metal: ") + op + " on too many lines");
  return MTLSizeMake(checked_groups(x, 1, op), static_cast<NSUInteger>(y), 1);
}

params::ScanParams scan_params(int64_t rows, int64_t n, bool product) {
  params::ScanParams p{};
  p.rows = rows;
  p.n = n;
  p.block = kScanBlock;
  p.blocks = (n + kScanBlock - 1) / kScanBlock;
  p.product = product ? 1 : 0;
  return p;
}

}  // namespace

void MetalBackend::argsort(const Array& in, int64_t rows, int64_t n, bool descending, const Array& out) {
  // Short lines get small threadgroups (a block of 4 keys per thread), so many short rows stay cheap.
  const NSUInteger threads = row_threads((n + kSortPerThread - 1) / kSortPerThread);
  params::SortParams p{};
  p.rows = rows;
  p.n = n;
  p.block = kSortPerThread * static_cast<int64_t>(threads);
  p.width = p.block;
  p.descending = descending ? 1 : 0;
  int passes = 0;
  for (int64_t width = p.block; width < n; width *= 2) ++passes;
  // Keys and line positions ping-pong between two buffer pairs; the last pass writes positions to out.
  const int64_t total = rows * n;
  std::vector<Array> keys{Array::empty({total}, Dtype::int64, device_)}, index;
  if (passes > 0) {
    keys.push_back(Array::empty({total}, Dtype::int64, device_));
    for (int k = 0; k < 2; ++k) index.push_back(Array::empty({total}, Dtype::int64, device_));
  }
  id<MTLComputePipelineState> block_sort =
      context_.pipeline("sort", std::string("argsort_block_") + dtype_short_name(in.dtype()), {});
  id<MTLComputePipelineState> merge = passes > 0 ? context_.pipeline("sort", "argsort_merge", {}) : nil;
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    set_params(encoder, p, launch.bind_all({in, keys[0], passes > 0 ? index[0] : out}));
    launch.run(block_sort, groups_2d((n + p.block - 1) / p.block, rows, "argsort"), threads);
    for (int k = 0, from = 0; k < passes; ++k, from = 1 - from, p.width *= 2) {
      const Array& positions = k == passes - 1 ? out : index[1 - from];
      set_params(encoder, p, launch.bind_all({keys[from], index[from], keys[1 - from], positions}));
      launch.run_1d(merge, total, "argsort");
    }
  });
}

void MetalBackend::scan(ScanOp op, const Array& in, int64_t rows, int64_t n, const Array& out) {
  const params::ScanParams p = scan_params(rows, n, op == ScanOp::cumprod);
  // f16 keeps the CPU's sequential rounding (one thread per line); int64 lines of one block gain nothing
  // from the block passes.
  if (in.dtype() == Dtype::float16 || n <= kScanBlock) {
    id<MTLComputePipelineState> pipeline =
        context_.pipeline("scan", in.dtype() == Dtype::float16 ? "scan_rows_f16" : "scan_rows_i64", {});
    run_kernel_1d(context_, pipeline, {in, out}, p, rows, "cumsum");
    return;
  }
  const Array totals = Array::empty({rows * p.blocks}, Dtype::int64, device_);
  const Array line_totals = Array::empty({rows}, Dtype::int64, device_);
  id<MTLComputePipelineState> reduce = context_.pipeline("scan", "scan_block_totals", {});
  id<MTLComputePipelineState> carries = context_.pipeline("scan", "scan_carries", {});
  id<MTLComputePipelineState> blocks = context_.pipeline("scan", "scan_blocks", {});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    set_params(encoder, p, launch.bind_all({in, totals}));
    launch.run(reduce, groups_2d(p.blocks, rows, "cumsum"), kScanThreads);
    set_params(encoder, p, launch.bind_all({totals, line_totals}));
    launch.run(carries, groups_2d(1, rows, "cumsum"), kScanThreads);
    set_params(encoder, p, launch.bind_all({in, totals, out}));
    launch.run(blocks, groups_2d(p.blocks, rows, "cumsum"), kScanThreads);
  });
}

void MetalBackend::searchsorted(const Array& sorted, const Array& probe, bool right, const Array& out) {
  params::SearchParams p{};
  p.m = sorted.numel();
  p.n = probe.numel();
  p.right = right ? 1 : 0;
  run_kernel_1d(context_, context_.pipeline("search", "searchsorted_i64", {}), {sorted, probe, out}, p, p.n,
                "searchsorted");
}

void MetalBackend::take_rows(const Array& src, const Array& index, const Array& out) {
  const int64_t row_bytes = src.numel() / src.shape()[0] * static_cast<int64_t>(src.itemsize());
  // The widest word that divides a row and both addresses (a view of bool or f16 data may start anywhere).
  const auto fit = static_cast<uint64_t>(row_bytes) | reinterpret_cast<uintptr_t>(src.data()) |
                   reinterpret_cast<uintptr_t>(out.data());
  const int64_t word = fit % 8 == 0 ? 8 : fit % 4 == 0 ? 4 : fit % 2 == 0 ? 2 : 1;
  params::SearchParams p{};
  p.n = index.numel();
  p.width = row_bytes / word;
  id<MTLComputePipelineState> pipeline = context_.pipeline("search", "take_rows_u" + std::to_string(8 * word), {});
  run_kernel_1d(context_, pipeline, {src, index, out}, p, p.n * p.width, "take_rows");
}

int64_t MetalBackend::flatnonzero(const Array& mask, const Array& out) {
  const params::ScanParams p = scan_params(1, mask.numel(), false);
  const Array counts = Array::empty({p.blocks}, Dtype::int64, device_);
  const Array total = Array::empty({1}, Dtype::int64, device_);
  id<MTLComputePipelineState> count = context_.pipeline("scan", "nonzero_block_counts", {});
  id<MTLComputePipelineState> carries = context_.pipeline("scan", "scan_carries", {});
  id<MTLComputePipelineState> write = context_.pipeline("scan", "nonzero_write", {});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    set_params(encoder, p, launch.bind_all({mask, counts}));
    launch.run(count, groups_2d(p.blocks, 1, "flatnonzero"), kScanThreads);
    set_params(encoder, p, launch.bind_all({counts, total}));
    launch.run(carries, groups_2d(1, 1, "flatnonzero"), kScanThreads);
    set_params(encoder, p, launch.bind_all({mask, counts, out}));
    launch.run(write, groups_2d(p.blocks, 1, "flatnonzero"), kScanThreads);
  });
  context_.synchronize();  // shared storage: the count is readable once the work is done
  return *total.data_as<int64_t>();
}

}  // namespace tensorlogic::metal
