// The host side of every Metal kernel dispatch, shared by the objc/metal_*.mm files of the `metal`
// backend: the argument blocks of metal/params.h, the elementwise geometry, grid-size checks and the
// Launch helper that binds arrays and dispatches (Objective-C++, Apple only).
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>

#include "metal_backend.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::metal {
namespace params {
#include "../metal/params.h"
}

constexpr NSUInteger kThreads = 256;

// Elementwise geometry: dims of size 1 dropped and dims merged where every operand is contiguous across
// them, so typical views need few dims (slots 0..2 inputs, 3 the output).
params::ElementwiseParams elementwise_params(const char* op, const Shape& shape, const Strides* operands[4],
                                             bool* contiguous);
// The geometry of one block (shape and strides of a view), unmerged dims kept in order.
params::ElementwiseParams block_params(const char* op, const Array& view);

// The suffix of a kernel's name for each dtype (copy_i64_f16, index_scatter_b8, ...).
inline const char* dtype_short_name(Dtype dtype) {
  static const char* const names[] = {"f16", "i32", "i64", "b8"};
  return names[static_cast<int>(dtype)];
}

// A rank-3 operand's strides into its slot of an argument block (gemm, attention).
inline void set_strides3(long (&slot)[3], const Array& a) {
  for (int d = 0; d < 3; ++d) slot[d] = a.strides()[d];
}
// Threadgroups of `per_group` threads covering `threads`; DeviceError past one dispatch.
uint32_t checked_groups(int64_t threads, NSUInteger per_group, const char* op);
// Row kernels: a multiple of 32 threads, enough to cover short rows without idle simdgroups.
NSUInteger row_threads(int64_t n);

template <typename P>
void set_params(id<MTLComputeCommandEncoder> encoder, const P& p, NSUInteger index) {
  [encoder setBytes:&p length:sizeof(P) atIndex:index];
}

// Binds arrays and dispatches for one kernel call; all encoding happens inside Context::encode.
struct Launch {
  Context& context;
  id<MTLComputeCommandEncoder> encoder;

  void bind(const Array& a, NSUInteger index) const {
    id<MTLBuffer> buffer = context.buffer_of(a.storage()->data());
    [encoder setBuffer:buffer offset:static_cast<NSUInteger>(a.offset()) * a.itemsize() atIndex:index];
  }
  // Binds `arrays` at buffer indices 0, 1, ...; returns the next index (where argument blocks go).
  NSUInteger bind_all(std::initializer_list<std::reference_wrapper<const Array>> arrays) const {
    NSUInteger index = 0;
    for (const Array& a : arrays) bind(a, index++);
    return index;
  }
  // dispatchThreadgroups with `groups` x `threads` (the kernels guard their own bounds).
  void run(id<MTLComputePipelineState> pipeline, MTLSize groups, NSUInteger threads) const {
    if (threads > pipeline.maxTotalThreadsPerThreadgroup) {
      throw DeviceError("metal: kernel needs " + std::to_string(threads) + " threads per threadgroup, the device allows " +
                        std::to_string(pipeline.maxTotalThreadsPerThreadgroup));
    }
    [encoder setComputePipelineState:pipeline];
    [encoder dispatchThreadgroups:groups threadsPerThreadgroup:MTLSizeMake(threads, 1, 1)];
  }
  void run_1d(id<MTLComputePipelineState> pipeline, int64_t total, const char* op) const {
    run(pipeline, MTLSizeMake(checked_groups(total, kThreads, op), 1, 1), kThreads);
  }
};

// One dispatch in the shape of most kernel calls: `arrays` bound at buffer indices 0, 1, ..., the
// argument block `p` at the next index, then `groups` threadgroups of `threads` threads.
template <typename P>
void run_kernel(Context& context, id<MTLComputePipelineState> pipeline,
                std::initializer_list<std::reference_wrapper<const Array>> arrays, const P& p, MTLSize groups,
                NSUInteger threads) {
  context.encode([&](id<MTLComputeCommandEncoder> encoder) {
    const Launch launch{context, encoder};
    set_params(encoder, p, launch.bind_all(arrays));
    launch.run(pipeline, groups, threads);
  });
}

// The same over `total` threads in 1-D threadgroups of kThreads.
template <typename P>
void run_kernel_1d(Context& context, id<MTLComputePipelineState> pipeline,
                   std::initializer_list<std::reference_wrapper<const Array>> arrays, const P& p, int64_t total,
                   const char* op) {
  run_kernel(context, pipeline, arrays, p, MTLSizeMake(checked_groups(total, kThreads, op), 1, 1), kThreads);
}

}  // namespace tensorlogic::metal
