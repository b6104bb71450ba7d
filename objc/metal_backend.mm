// MetalBackend: packs the argument blocks of metal/params.h, picks grid sizes and specialisations, and
// encodes one dispatch per kernel-family call. Host transfers wait for queued work, then copy on the CPU
// (buffers are in shared storage).
#include "metal_backend.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "../cpp/cpu/optim_ops.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::metal {
namespace params {
#include "../metal/params.h"
}
namespace {

constexpr NSUInteger kThreads = 256;

// The elementwise kernels hold f16 and int32 values; int64 and bool values have no Metal kernel there yet.
void require_32bit(const char* op, const Array& a) {
  if (a.dtype() == Dtype::int64 || a.dtype() == Dtype::bool_) {
    throw DeviceError(std::string("metal: ") + op + " has no kernel for " + dtype_name(a.dtype()) +
                      " values (run it on the cpu, or convert with .int() or .float())");
  }
}

// The suffix of a kernel's name for each dtype (copy_i64_f16, index_scatter_b8, ...).
const char* dtype_short_name(Dtype dtype) {
  static const char* const names[] = {"f16", "i32", "i64", "b8"};
  return names[static_cast<int>(dtype)];
}

// Elementwise geometry: dims of size 1 dropped and dims merged where every operand is contiguous across
// them, so typical views need few dims (slots 0..2 inputs, 3 the output).
params::ElementwiseParams elementwise_params(const char* op, const Shape& shape, const Strides* operands[4],
                                             bool* contiguous) {
  params::ElementwiseParams p{};
  std::vector<int64_t> sizes;
  std::vector<std::array<int64_t, 4>> strides;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    std::array<int64_t, 4> s{};
    for (int k = 0; k < 4; ++k) s[k] = operands[k] ? (*operands[k])[d] : 0;
    bool merge = !sizes.empty();
    for (int k = 0; k < 4 && merge; ++k) merge = strides.back()[k] == s[k] * shape[d];
    if (merge) {
      sizes.back() *= shape[d];
      strides.back() = s;
    } else {
      sizes.push_back(shape[d]);
      strides.push_back(s);
    }
  }
  if (sizes.empty()) {
    sizes.push_back(1);
    strides.push_back({0, 0, 0, 0});
  }
  if (sizes.size() > TL_MAX_DIMS) {
    throw DeviceError(std::string("metal: ") + op + " on shape " + shape_str(shape) + " needs " +
                      std::to_string(sizes.size()) + " strided dims after merging; the kernels take " +
                      std::to_string(TL_MAX_DIMS) + " (make an operand contiguous first)");
  }
  p.ndim = static_cast<int>(sizes.size());
  p.numel = numel_of(shape);
  *contiguous = sizes.size() == 1;
  for (size_t d = 0; d < sizes.size(); ++d) {
    p.shape[d] = sizes[d];
    for (int k = 0; k < 4; ++k) {
      p.strides[k][d] = strides[d][k];
      if (operands[k] && sizes.size() == 1 && strides[d][k] != 1) *contiguous = false;
    }
  }
  return p;
}

uint32_t checked_groups(int64_t threads, NSUInteger per_group, const char* op) {
  const int64_t groups = (threads + static_cast<int64_t>(per_group) - 1) / static_cast<int64_t>(per_group);
  if (threads > static_cast<int64_t>(UINT32_MAX)) {
    throw DeviceError(std::string("metal: ") + op + " on " + std::to_string(threads) +
                      " elements exceeds one dispatch (2^32 threads)");
  }
  return static_cast<uint32_t>(std::max<int64_t>(groups, 1));
}

template <typename P>
void set_params(id<MTLComputeCommandEncoder> encoder, const P& p, NSUInteger index) {
  [encoder setBytes:&p length:sizeof(P) atIndex:index];
}

}  // namespace

MetalBackend::MetalBackend(Context& context, Device device)
    : context_(context), device_(device), cache_(device, context) {}

namespace {

// Binds arrays and dispatches for one kernel call; all encoding happens inside Context::encode.
struct Launch {
  Context& context;
  id<MTLComputeCommandEncoder> encoder;

  void bind(const Array& a, NSUInteger index) {
    id<MTLBuffer> buffer = context.buffer_of(a.storage()->data());
    [encoder setBuffer:buffer offset:static_cast<NSUInteger>(a.offset()) * a.itemsize() atIndex:index];
  }
  // dispatchThreadgroups with `groups` x `threads` (the kernels guard their own bounds).
  void run(id<MTLComputePipelineState> pipeline, MTLSize groups, NSUInteger threads) {
    if (threads > pipeline.maxTotalThreadsPerThreadgroup) {
      throw DeviceError("metal: kernel needs " + std::to_string(threads) + " threads per threadgroup, the device allows " +
                        std::to_string(pipeline.maxTotalThreadsPerThreadgroup));
    }
    [encoder setComputePipelineState:pipeline];
    [encoder dispatchThreadgroups:groups threadsPerThreadgroup:MTLSizeMake(threads, 1, 1)];
  }
  void run_1d(id<MTLComputePipelineState> pipeline, int64_t total, const char* op) {
    run(pipeline, MTLSizeMake(checked_groups(total, kThreads, op), 1, 1), kThreads);
  }
};

// Row kernels: a multiple of 32 threads, enough to cover short rows without idle simdgroups.
NSUInteger row_threads(int64_t n) {
  const int64_t rounded = (n + 31) / 32 * 32;
  return static_cast<NSUInteger>(std::clamp<int64_t>(rounded, 32, 256));
}

Array alias_on_cpu(const Array& a) {
  return Array::from_memory(a.data(), a.shape(), a.strides(), a.dtype(), Device{DeviceType::cpu, 0}, nullptr);
}

}  // namespace

// ---- host transfers and copies ---------------------------------------------------------------------
void MetalBackend::copy_from_host(const void* src, const Array& dst) {
  context_.synchronize();  // queued kernels may still read or write dst
  const Array host = Array::from_memory(const_cast<void*>(src), dst.shape(), contiguous_strides(dst.shape()),
                                        dst.dtype(), Device{DeviceType::cpu, 0}, nullptr);
  backend_for(Device{DeviceType::cpu, 0}).copy(host, alias_on_cpu(dst));
}

void MetalBackend::copy_to_host(const Array& src, void* dst) {
  context_.synchronize();
  const Array host = Array::from_memory(dst, src.shape(), contiguous_strides(src.shape()), src.dtype(),
                                        Device{DeviceType::cpu, 0}, nullptr);
  backend_for(Device{DeviceType::cpu, 0}).copy(alias_on_cpu(src), host);
}

void MetalBackend::copy(const Array& src, const Array& dst) {
  const Strides* operands[4] = {&src.strides(), nullptr, nullptr, &dst.strides()};
  bool contiguous = false;
  const auto p = elementwise_params("copy", dst.shape(), operands, &contiguous);
  // copy_u<bits> moves raw words; copy_<from>_<to> converts (metal/copy.metal).
  const std::string name = src.dtype() == dst.dtype() ? "copy_u" + std::to_string(8 * src.itemsize())
                                                      : std::string("copy_") + dtype_short_name(src.dtype()) + "_" +
                                                            dtype_short_name(dst.dtype());
  id<MTLComputePipelineState> pipeline = context_.pipeline("copy", name.c_str(), {});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(src, 0);
    launch.bind(dst, 1);
    set_params(encoder, p, 2);
    launch.run_1d(pipeline, p.numel, "copy");
  });
}

void MetalBackend::fill(const Array& dst, double value) {
  const Strides* operands[4] = {nullptr, nullptr, nullptr, &dst.strides()};
  bool contiguous = false;
  auto p = elementwise_params("fill", dst.shape(), operands, &contiguous);
  if (dst.dtype() == Dtype::float16) {
    p.iscalar_a = static_cast<int32_t>(to_half(static_cast<float>(value)).bits);
  } else if (dst.dtype() == Dtype::bool_) {
    p.iscalar_a = value != 0.0 ? 1 : 0;
  } else {
    const uint64_t word = static_cast<uint64_t>(static_cast<int64_t>(value));
    p.iscalar_a = static_cast<int32_t>(static_cast<uint32_t>(word));
    p.iscalar_b = static_cast<int32_t>(static_cast<uint32_t>(word >> 32));
  }
  const std::string name = "fill_u" + std::to_string(8 * dst.itemsize());
  id<MTLComputePipelineState> pipeline = context_.pipeline("copy", name.c_str(), {});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(dst, 0);
    set_params(encoder, p, 1);
    launch.run_1d(pipeline, p.numel, "fill");
  });
}

// ---- elementwise -----------------------------------------------------------------------------------
void MetalBackend::unary(UnaryOp op, const Array& in, const Array& out, const UnaryParams& params) {
  require_32bit(unary_name(op), in);
  const Strides* operands[4] = {&in.strides(), nullptr, nullptr, &out.strides()};
  bool contiguous = false;
  auto p = elementwise_params(unary_name(op), out.shape(), operands, &contiguous);
  p.pa = params.a;
  p.pb = params.b;
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "elementwise", in.dtype() == Dtype::int32 ? "unary_i32" : "unary_f16",
      {uint_constant(0, static_cast<uint32_t>(op)), bool_constant(1, contiguous), bool_constant(2, false),
       bool_constant(3, false)});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(in, 0);
    launch.bind(out, 1);
    set_params(encoder, p, 2);
    launch.run_1d(pipeline, p.numel, unary_name(op));
  });
}

void MetalBackend::binary(BinaryOp op, const Operand& a, const Operand& b, const Array& out) {
  const Strides* operands[4] = {a.array ? &a.array->strides() : nullptr, b.array ? &b.array->strides() : nullptr,
                                nullptr, &out.strides()};
  bool contiguous = false;
  auto p = elementwise_params(binary_name(op), out.shape(), operands, &contiguous);
  p.scalar_a = static_cast<float>(a.scalar);
  p.scalar_b = static_cast<float>(b.scalar);
  p.iscalar_a = static_cast<int32_t>(a.scalar);
  p.iscalar_b = static_cast<int32_t>(b.scalar);
  require_32bit(binary_name(op), a.array ? *a.array : *b.array);
  const bool ints = (a.array ? a.array->dtype() : b.array->dtype()) == Dtype::int32;
  const std::vector<Constant> constants = {uint_constant(0, static_cast<uint32_t>(op)), bool_constant(1, contiguous),
                                           bool_constant(2, a.array == nullptr), bool_constant(3, b.array == nullptr)};
  id<MTLComputePipelineState> pipeline = context_.pipeline("elementwise", ints ? "binary_i32" : "binary_f16", constants);
  const bool can_divide_by_zero = ints && (op == BinaryOp::floor_divide || op == BinaryOp::remainder);
  Array flags;
  if (can_divide_by_zero) {
    flags = Array::empty({1}, Dtype::int32, device_);
    fill(flags, 0.0);
  }
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(a.array ? *a.array : out, 0);  // a scalar operand's slot is bound but never read
    launch.bind(b.array ? *b.array : out, 1);
    launch.bind(out, 2);
    if (ints) {
      launch.bind(out, 3);
      launch.bind(can_divide_by_zero ? flags : out, 4);
      set_params(encoder, p, 5);
    } else {
      set_params(encoder, p, 3);
    }
    launch.run_1d(pipeline, p.numel, binary_name(op));
  });
  if (can_divide_by_zero) {
    int32_t flag = 0;
    copy_to_host(flags, &flag);  // waits: the CPU backend raises for the same input
    if (flag != 0) throw ArgumentError(std::string(binary_name(op)) + ": integer division by zero");
  }
}

void MetalBackend::ternary(TernaryOp op, const Array& a, const Array& b, const Array& c, const Array& out) {
  const Strides* operands[4] = {&a.strides(), &b.strides(), &c.strides(), &out.strides()};
  bool contiguous = false;
  const auto p = elementwise_params(op == TernaryOp::where ? "where" : "affine", out.shape(), operands, &contiguous);
  require_32bit("where", out);
  const bool ints = op == TernaryOp::where && out.dtype() == Dtype::int32;
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "elementwise", ints ? "where_i32" : "ternary_f16",
      {uint_constant(0, static_cast<uint32_t>(op)), bool_constant(1, contiguous), bool_constant(2, false),
       bool_constant(3, false)});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(a, 0);
    launch.bind(b, 1);
    launch.bind(c, 2);
    launch.bind(out, 3);
    set_params(encoder, p, 4);
    launch.run_1d(pipeline, p.numel, "ternary");
  });
}

// ---- reductions and rows ---------------------------------------------------------------------------
void MetalBackend::reduce(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out,
                          const ReduceParams& rp) {
  const int64_t outputs = outer * inner;
  if (outputs == 0) return;
  // Few outputs over long rows: split each row so that enough threadgroups run (stage 2 combines).
  int64_t parts = 1;
  if (outputs < 256 && n >= 8192) parts = std::min<int64_t>(64, n / 4096);
  params::ReduceParams p{};
  p.outer = outer;
  p.n = n;
  p.inner = inner;
  p.parts = parts;
  p.chunk = (n + parts - 1) / parts;
  p.correction = static_cast<float>(rp.correction);
  p.p = static_cast<float>(rp.p);
  const std::vector<Constant> constants = {uint_constant(0, static_cast<uint32_t>(op)), bool_constant(1, parts == 1)};
  id<MTLComputePipelineState> stage1 = context_.pipeline("reduce", "reduce_stage1", constants);
  id<MTLComputePipelineState> stage2 = parts > 1 ? context_.pipeline("reduce", "reduce_stage2", constants) : nil;
  // 16 bytes of partial state per (output, part) when there is a second stage (a placeholder binding
  // otherwise); released to the pool only after the command buffer completes.
  Array partials = Array::empty({parts > 1 ? outputs * parts * 4 : 4}, Dtype::int32, device_);
  if (outputs > static_cast<int64_t>(UINT32_MAX)) throw DeviceError("metal: reduction with more than 2^32 outputs");
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(in, 0);
    launch.bind(out, 1);
    launch.bind(out, 2);
    launch.bind(partials, 3);
    set_params(encoder, p, 4);
    launch.run(stage1, MTLSizeMake(static_cast<NSUInteger>(outputs), static_cast<NSUInteger>(parts), 1), kThreads);
    if (parts > 1) {
      launch.bind(partials, 0);
      launch.bind(out, 1);
      launch.bind(out, 2);
      set_params(encoder, p, 3);
      launch.run(stage2, MTLSizeMake(static_cast<NSUInteger>(outputs), 1, 1), kThreads);
    }
  });
}

void MetalBackend::rows(RowOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) {
  params::ReduceParams p{};
  p.outer = outer;
  p.n = n;
  p.inner = inner;
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "rows", "softmax_rows", {bool_constant(0, op == RowOp::log_softmax), bool_constant(1, false),
                               bool_constant(2, false), bool_constant(3, false)});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(in, 0);
    launch.bind(out, 1);
    set_params(encoder, p, 2);
    launch.run(pipeline, MTLSizeMake(static_cast<NSUInteger>(outer * inner), 1, 1), row_threads(n));
  });
}

void MetalBackend::norm(bool rms, const Array& in, int64_t rows, int64_t n, const Array* weight, const Array* bias,
                        double eps, const Array& out) {
  params::NormParams p{};
  p.rows = rows;
  p.n = n;
  p.eps = static_cast<float>(eps);
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "rows", "norm_rows", {bool_constant(0, false), bool_constant(1, rms), bool_constant(2, weight != nullptr),
                            bool_constant(3, bias != nullptr && !rms)});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(in, 0);
    launch.bind(weight ? *weight : in, 1);
    launch.bind(bias ? *bias : in, 2);
    launch.bind(out, 3);
    set_params(encoder, p, 4);
    launch.run(pipeline, MTLSizeMake(static_cast<NSUInteger>(rows), 1, 1), row_threads(n));
  });
}

void MetalBackend::cross_entropy(const Array& logits, const Array& target, int64_t rows, int64_t n,
                                 int64_t ignore_index, float label_smoothing, const Array& out) {
  params::CrossEntropyParams p{};
  p.rows = rows;
  p.n = n;
  p.ignore_index = ignore_index;
  p.smoothing = label_smoothing;
  id<MTLComputePipelineState> pipeline = context_.pipeline("rows", "cross_entropy_rows", {});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(logits, 0);
    launch.bind(target, 1);
    launch.bind(out, 2);
    set_params(encoder, p, 3);
    launch.run(pipeline, MTLSizeMake(checked_groups(rows, 1, "cross_entropy"), 1, 1), row_threads(n));
  });
}

// ---- GEMM ------------------------------------------------------------------------------------------
void MetalBackend::gemm(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) {
  params::GemmParams p{};
  p.batch = out.dim(0);
  p.m = out.dim(1);
  p.n = out.dim(2);
  p.k = a.dim(2);
  for (int d = 0; d < 3; ++d) {
    p.a_strides[d] = a.strides()[d];
    p.b_strides[d] = b.strides()[d];
  }
  if (epilogue.bias) {
    const Array& bias = *epilogue.bias;
    if (bias.ndim() == 1) {
      p.bias_strides[2] = bias.strides()[0];
    } else {
      for (int d = 0; d < 3; ++d) p.bias_strides[d] = bias.strides()[d];
    }
  }
  if (epilogue.residual) {
    for (int d = 0; d < 3; ++d) p.res_strides[d] = epilogue.residual->strides()[d];
  }
  // 32x32 tiles (4 simdgroups) once both sides fill them; 16x16 keeps small or skinny problems busy.
  const uint32_t tile = (p.m >= 64 && p.n >= 64) ? 32 : 16;
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "gemm", "gemm", {uint_constant(0, tile), bool_constant(1, epilogue.bias != nullptr),
                       bool_constant(2, epilogue.residual != nullptr),
                       uint_constant(3, static_cast<uint32_t>(epilogue.activation))});
  const NSUInteger threads = (tile / 16) * (tile / 16) * 32;
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(a, 0);
    launch.bind(b, 1);
    launch.bind(out, 2);
    launch.bind(epilogue.bias ? *epilogue.bias : out, 3);
    launch.bind(epilogue.residual ? *epilogue.residual : out, 4);
    set_params(encoder, p, 5);
    launch.run(pipeline,
               MTLSizeMake(static_cast<NSUInteger>((p.n + tile - 1) / tile), static_cast<NSUInteger>((p.m + tile - 1) / tile),
                           static_cast<NSUInteger>(p.batch)),
               threads);
  });
}

// ---- indexing, convolution columns, tri ------------------------------------------------------------
namespace {
params::ConvParams conv_params(const Shape& image, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                               int64_t out_w) {
  params::ConvParams p{};
  p.n = image[0];
  p.c = image[1];
  p.h = image[2];
  p.w = image[3];
  p.kh = kernel[0];
  p.kw = kernel[1];
  p.out_h = out_h;
  p.out_w = out_w;
  for (int i = 0; i < 2; ++i) {
    p.stride[i] = args.stride[i];
    p.padding[i] = args.padding[i];
    p.dilation[i] = args.dilation[i];
  }
  return p;
}

// The geometry of one block (shape and strides of a view), unmerged dims kept in order.
params::ElementwiseParams block_params(const char* op, const Array& view) {
  const Strides* operands[4] = {&view.strides(), nullptr, nullptr, nullptr};
  bool contiguous = false;
  return elementwise_params(op, view.shape(), operands, &contiguous);
}
}  // namespace

Array MetalBackend::upload(const void* data, size_t bytes) {
  Array a = Array::empty({static_cast<int64_t>((bytes + 3) / 4)}, Dtype::int32, device_);
  if (bytes > 0) std::memcpy(a.data(), data, bytes);
  return a;
}

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
    launch.bind(src, 0);
    launch.bind(device_offsets, 1);
    launch.bind(out, 2);
    set_params(encoder, g, 3);
    set_params(encoder, p, 4);
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
    launch.bind(values, 0);
    launch.bind(device_offsets, 1);
    launch.bind(device_starts, 2);
    launch.bind(device_order, 3);
    launch.bind(dst, 4);
    set_params(encoder, g, 5);
    set_params(encoder, p, 6);
    launch.run_1d(pipeline, p.segments * g.numel, "index_put");
  });
}

void MetalBackend::im2col(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                          int64_t out_w, const Array& out) {
  const auto p = conv_params(x.shape(), kernel, args, out_h, out_w);
  id<MTLComputePipelineState> pipeline = context_.pipeline("conv", "im2col_f16", {});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(x, 0);
    launch.bind(out, 1);
    set_params(encoder, p, 2);
    launch.run_1d(pipeline, out.numel(), "im2col");
  });
}

void MetalBackend::col2im(const Array& cols, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                          int64_t out_w, const Array& out) {
  const auto p = conv_params(out.shape(), kernel, args, out_h, out_w);
  id<MTLComputePipelineState> pipeline = context_.pipeline("conv", "col2im_f16", {});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(cols, 0);
    launch.bind(out, 1);
    set_params(encoder, p, 2);
    launch.run_1d(pipeline, out.numel(), "col2im");
  });
}

void MetalBackend::pool2d(bool max, const Array& x, const int64_t kernel[2], const Conv2dArgs& args,
                          bool count_include_pad, int64_t out_h, int64_t out_w, const Array& out) {
  const auto p = conv_params(x.shape(), kernel, args, out_h, out_w);
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("conv", "pool2d_f16", {bool_constant(0, max), bool_constant(1, count_include_pad)});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(x, 0);
    launch.bind(out, 1);
    set_params(encoder, p, 2);
    launch.run_1d(pipeline, out.numel(), max ? "max_pool2d" : "avg_pool2d");
  });
}

void MetalBackend::attention(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal,
                             float scale, const Array& out) {
  constexpr int64_t kBlock = 128, kColumnsPerGroup = 128 * 4;  // attention.metal's BLOCK * MAX_DV_PER_THREAD
  params::AttentionParams p{};
  p.batch = q.dim(0);
  p.l = q.dim(1);
  p.s = k.dim(1);
  p.d = q.dim(2);
  p.dv = v.dim(2);
  for (int i = 0; i < 3; ++i) {
    p.q_strides[i] = q.strides()[i];
    p.k_strides[i] = k.strides()[i];
    p.v_strides[i] = v.strides()[i];
    p.mask_strides[i] = mask ? mask->strides()[i] : 0;
  }
  p.scale = scale;
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("attention", "attention", {bool_constant(0, causal), bool_constant(1, mask != nullptr)});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(q, 0);
    launch.bind(k, 1);
    launch.bind(v, 2);
    launch.bind(mask ? *mask : q, 3);
    launch.bind(out, 4);
    set_params(encoder, p, 5);
    launch.run(pipeline,
               MTLSizeMake(checked_groups(p.batch * p.l, 1, "attention"),
                           static_cast<NSUInteger>((p.dv + kColumnsPerGroup - 1) / kColumnsPerGroup), 1),
               kBlock);
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
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(in, 0);
    launch.bind(out, 1);
    set_params(encoder, p, 2);
    launch.run_1d(pipeline, p.numel, upper ? "triu" : "tril");
  });
}

// ---- random ----------------------------------------------------------------------------------------
void MetalBackend::random(RandomKind kind, uint64_t seed, uint64_t offset, double low, double high, const Array& out) {
  params::RandomParams p{};
  p.numel = out.numel();
  p.seed_lo = static_cast<uint32_t>(seed);
  p.seed_hi = static_cast<uint32_t>(seed >> 32);
  p.offset_lo = static_cast<uint32_t>(offset);
  p.offset_hi = static_cast<uint32_t>(offset >> 32);
  p.low = static_cast<long>(low);
  p.high = static_cast<long>(high);
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("random", "random_fill", {uint_constant(0, static_cast<uint32_t>(kind))});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(out, 0);
    launch.bind(out, 1);
    set_params(encoder, p, 2);
    launch.run_1d(pipeline, (p.numel + 3) / 4, "random");
  });
}

// ---- fused optimizer steps -------------------------------------------------------------------------
void MetalBackend::optimizer_step(OptimizerKind kind, const OptimizerParams& o, const Array& param, const Array& grad,
                                  const std::vector<Array>& state) {
  // The coefficients of cpp/cpu/optim_ops.h (shared with the CPU and CUDA backends), in params.h's layout.
  const cpu::Coeffs k = cpu::make_coeffs(kind, o);
  params::OptimizerCoeffs c{};
  c.numel = param.numel();
  c.lr = k.lr;
  c.wd = k.wd;
  c.momentum = k.momentum;
  c.dampening = k.dampening;
  c.beta1 = k.beta1;
  c.beta2 = k.beta2;
  c.eps = k.eps;
  c.alpha = k.alpha;
  c.step_size = k.step_size;
  c.bc2_sqrt = k.bc2_sqrt;
  c.decay = k.decay;
  c.scale = k.scale;
  c.nesterov = k.nesterov;
  c.maximize = k.maximize;
  c.amsgrad = k.amsgrad;
  c.centered = k.centered;
  c.first = k.first;
  if (c.numel == 0) return;
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("optimizer", "optimizer_step", {uint_constant(0, static_cast<uint32_t>(kind))});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(param, 0);
    launch.bind(grad, 1);
    for (size_t k = 0; k < 4; ++k) launch.bind(k < state.size() ? state[k] : state[0], 2 + k);  // unused slots: slot 0
    set_params(encoder, c, 6);
    launch.run_1d(pipeline, c.numel, optimizer_name(kind));
  });
}

// ---- the hooks of cpp/core/dispatch.cpp ------------------------------------------------------------
bool device_present() { return Context::get() != nullptr; }

Backend* create_backend() {
  Context* context = Context::get();
  return context == nullptr ? nullptr : new MetalBackend(*context, Device{DeviceType::metal, 0});
}

}  // namespace tensorlogic::metal
