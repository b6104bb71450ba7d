// Elementwise kernel families. Work proceeds in blocks: operands are converted to f32 blocks
// (vectorised conversion when contiguous), the op runs on the block, and the result is rounded once.
#include <algorithm>
#include <atomic>
#include <type_traits>
#include <vector>

#include "../core/op_dispatch.h"
#include "../core/strided.h"
#include "../kernels/elementwise.h"
#include "cpu_backend.h"
#include "elementwise_simd.h"
#include "f16_convert.h"
#include "parallel.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kBlock = 512;
constexpr int64_t kGrain = 1 << 15;

// Reads `count` f16 values at `src` with element stride `stride` into an f32 block.
inline void load_block(const half* src, int64_t stride, int64_t count, float* block) {
  if (stride == 1) {
    f16_to_f32(src, block, count);
  } else if (stride == 0) {  // a broadcast operand (a scalar or an expanded dimension): convert once
    std::fill(block, block + count, to_float(src[0]));
  } else {  // gathered as f16 first: the vector widening beats a scalar conversion per element
    half line[kBlock];
    for (int64_t i = 0; i < count; ++i) line[i] = src[i * stride];
    f16_to_f32(line, block, count);
  }
}

inline void store_block(const float* block, int64_t count, half* dst, int64_t stride) {
  if (stride == 1) {
    f32_to_f16(block, dst, count);
  } else {
    half line[kBlock];
    f32_to_f16(block, line, count);
    for (int64_t i = 0; i < count; ++i) dst[i * stride] = line[i];
  }
}

// `count` f16 values `stride` apart: src itself when unit-stride, else gathered into line.
inline const half* gather_line(const half* src, int64_t stride, int64_t count, half* line) {
  if (stride == 1) return src;
  for (int64_t i = 0; i < count; ++i) line[i] = src[i * stride];
  return line;
}

inline void scatter_line(const half* line, int64_t count, half* dst, int64_t stride) {
  for (int64_t i = 0; i < count; ++i) dst[i * stride] = line[i];
}

// Runs fn(offsets, count) over runs of at most kBlock elements, in parallel for large outputs.
template <int N, typename F>
void for_each_block(const Layout<N>& layout, F&& fn) {
  parallel_for(layout.numel, kGrain, [&](int64_t begin, int64_t end) {
    layout.for_each_run(begin, end, [&](std::array<int64_t, N> off, int64_t count) {
      while (count > 0) {
        const int64_t n = std::min(count, kBlock);
        fn(off, n);
        for (int k = 0; k < N; ++k) off[k] += n * layout.inner_stride(k);
        count -= n;
      }
    });
  });
}

// Runs fn(begin, end) over [0, n): inline for small n, so a small op pays for no thread-pool call.
template <typename F>
void run_flat(int64_t n, F&& fn) {
  if (n <= kGrain) {
    fn(int64_t{0}, n);
  } else {
    parallel_for(n, kGrain, fn);
  }
}

bool contiguous_f16(const Array* a) { return a == nullptr || (a->dtype() == Dtype::float16 && a->is_contiguous()); }

}  // namespace

void CpuBackend::unary(UnaryOp op, const Array& in, const Array& out, const UnaryParams& params) {
  // Fast path: no stride bookkeeping (and no allocations) when both sides are contiguous.
  if (const simd::UnaryKernel kernel = simd::unary_kernel(op); kernel && contiguous_f16(&in) && out.is_contiguous()) {
    const half* src = in.data_as<half>();
    half* dst = out.data_as<half>();
    run_flat(out.numel(), [&](int64_t b, int64_t e) { kernel(src + b, dst + b, e - b, params); });
    return;
  }
  const Layout<2> layout(out.shape(), {&in.strides(), &out.strides()});
  const int64_t si = layout.inner_stride(0), so = layout.inner_stride(1);
  if (is_integer(in.dtype())) {
    visit_int(in.dtype(), [&](auto type) {
      using T = decltype(type);
      const T* src = in.data_as<T>();
      T* dst = out.data_as<T>();
      dispatch_unary(op, [&](auto tag) {
        for_each_block(layout, [&](const std::array<int64_t, 2>& off, int64_t n) {
          for (int64_t i = 0; i < n; ++i) {
            dst[off[1] + i * so] = kernels::unary_int(decltype(tag)::value, src[off[0] + i * si], params.a, params.b);
          }
        });
      });
    });
    return;
  }
  const half* src = in.data_as<half>();
  half* dst = out.data_as<half>();
  if (const simd::UnaryKernel kernel = simd::unary_kernel(op); kernel && si == 1 && so == 1) {
    parallel_for(layout.numel, kGrain, [&](int64_t begin, int64_t end) {
      layout.for_each_run(begin, end, [&](const std::array<int64_t, 2>& off, int64_t n) {
        kernel(src + off[0], dst + off[1], n, params);
      });
    });
    return;
  }
  if (const simd::UnaryKernel kernel = simd::unary_kernel(op)) {  // strided runs through the vector kernel
    for_each_block(layout, [&](const std::array<int64_t, 2>& off, int64_t n) {
      half in_line[kBlock], out_line[kBlock];
      half* dst_run = so == 1 ? dst + off[1] : out_line;
      kernel(gather_line(src + off[0], si, n, in_line), dst_run, n, params);
      if (so != 1) scatter_line(out_line, n, dst + off[1], so);
    });
    return;
  }
  dispatch_unary(op, [&](auto tag) {
    for_each_block(layout, [&](const std::array<int64_t, 2>& off, int64_t n) {
      float block[kBlock];
      load_block(src + off[0], si, n, block);
      for (int64_t i = 0; i < n; ++i) block[i] = kernels::unary_f32(decltype(tag)::value, block[i], params.a, params.b);
      store_block(block, n, dst + off[1], so);
    });
  });
}

void CpuBackend::binary(BinaryOp op, const Operand& a, const Operand& b, const Array& out) {
  if (const simd::NaryKernel kernel = simd::binary_kernel(op);
      kernel && out.dtype() == Dtype::float16 && out.is_contiguous() && contiguous_f16(a.array) && contiguous_f16(b.array) &&
      (a.array || b.array)) {
    const half* pa = a.array ? a.array->data_as<half>() : nullptr;
    const half* pb = b.array ? b.array->data_as<half>() : nullptr;
    const float scalars[2] = {static_cast<float>(a.scalar), static_cast<float>(b.scalar)};
    half* po = out.data_as<half>();
    run_flat(out.numel(), [&](int64_t s, int64_t e) {
      const half* in[2] = {pa ? pa + s : nullptr, pb ? pb + s : nullptr};
      kernel(in, scalars, po + s, e - s);
    });
    return;
  }
  // A scalar operand walks a zero-stride view of its own value, so one loop serves all three forms.
  const Strides zero(out.ndim(), 0);
  const Strides& sa = a.array ? a.array->strides() : zero;
  const Strides& sb = b.array ? b.array->strides() : zero;
  const Layout<3> layout(out.shape(), {&sa, &sb, &out.strides()});
  const int64_t ia = layout.inner_stride(0), ib = layout.inner_stride(1), io = layout.inner_stride(2);
  const Dtype in_type = a.array ? a.array->dtype() : b.array->dtype();

  if (is_integer(in_type)) {  // int32 or int64 operands; comparisons write f16 0/1 (the core makes bool)
    std::atomic<bool> divide_by_zero{false};
    visit_int(in_type, [&](auto type) {
      using T = decltype(type);
      const T sa_value = static_cast<T>(a.scalar), sb_value = static_cast<T>(b.scalar);
      const T* pa = a.array ? a.array->data_as<T>() : &sa_value;
      const T* pb = b.array ? b.array->data_as<T>() : &sb_value;
      dispatch_binary(op, [&](auto tag) {
        constexpr BinaryOp kOp = decltype(tag)::value;
        for_each_block(layout, [&](const std::array<int64_t, 3>& off, int64_t n) {
          const T* x = pa + off[0];
          const T* y = pb + off[1];
          if (out.dtype() == Dtype::float16) {
            half* dst = out.data_as<half>() + off[2];
            for (int64_t i = 0; i < n; ++i) dst[i * io] = to_half(kernels::compare(kOp, x[i * ia], y[i * ib]));
          } else {
            T* dst = out.data_as<T>() + off[2];
            bool zero_div = false;
            for (int64_t i = 0; i < n; ++i) dst[i * io] = kernels::binary_int(kOp, x[i * ia], y[i * ib], &zero_div);
            if (zero_div) divide_by_zero = true;
          }
        });
      });
    });
    if (divide_by_zero) throw ArgumentError(std::string(binary_name(op)) + ": integer division by zero");
    return;
  }

  const float fa = static_cast<float>(a.scalar), fb = static_cast<float>(b.scalar);
  const half* pa = a.array ? a.array->data_as<half>() : nullptr;
  const half* pb = b.array ? b.array->data_as<half>() : nullptr;
  half* po = out.data_as<half>();
  // Vector path: unit-stride output, each operand unit-stride or constant along the run (a scalar).
  if (const simd::NaryKernel kernel = simd::binary_kernel(op); kernel && io == 1 && ia <= 1 && ib <= 1) {
    parallel_for(layout.numel, kGrain, [&](int64_t begin, int64_t end) {
      layout.for_each_run(begin, end, [&](const std::array<int64_t, 3>& off, int64_t n) {
        const half* in[2] = {pa && ia == 1 ? pa + off[0] : nullptr, pb && ib == 1 ? pb + off[1] : nullptr};
        const float scalars[2] = {pa ? to_float(pa[off[0]]) : fa, pb ? to_float(pb[off[1]]) : fb};
        kernel(in, scalars, po + off[2], n);
      });
    });
    return;
  }
  if (const simd::NaryKernel kernel = simd::binary_kernel(op)) {  // strided runs through the vector kernel
    for_each_block(layout, [&](const std::array<int64_t, 3>& off, int64_t n) {
      half a_line[kBlock], b_line[kBlock], out_line[kBlock];
      // a scalar, or an operand constant along the run (stride 0), is passed as its value
      const half* in[2] = {pa && ia != 0 ? gather_line(pa + off[0], ia, n, a_line) : nullptr,
                           pb && ib != 0 ? gather_line(pb + off[1], ib, n, b_line) : nullptr};
      const float scalars[2] = {pa ? to_float(pa[off[0]]) : fa, pb ? to_float(pb[off[1]]) : fb};
      kernel(in, scalars, io == 1 ? po + off[2] : out_line, n);
      if (io != 1) scatter_line(out_line, n, po + off[2], io);
    });
    return;
  }
  dispatch_binary(op, [&](auto tag) {
    constexpr BinaryOp kOp = decltype(tag)::value;
    for_each_block(layout, [&](const std::array<int64_t, 3>& off, int64_t n) {
      float x[kBlock], y[kBlock];
      if (pa) load_block(pa + off[0], ia, n, x); else std::fill(x, x + n, fa);
      if (pb) load_block(pb + off[1], ib, n, y); else std::fill(y, y + n, fb);
      for (int64_t i = 0; i < n; ++i) x[i] = kernels::binary_f32(kOp, x[i], y[i]);
      store_block(x, n, po + off[2], io);
    });
  });
}

void CpuBackend::ternary(TernaryOp op, const Array& a, const Array& b, const Array& c, const Array& out) {
  const Layout<4> layout(out.shape(), {&a.strides(), &b.strides(), &c.strides(), &out.strides()});
  const int64_t s0 = layout.inner_stride(0), s1 = layout.inner_stride(1), s2 = layout.inner_stride(2),
                s3 = layout.inner_stride(3);
  if (op == TernaryOp::where && out.dtype() != Dtype::float16) {  // integer or bool values, an f16 condition
    visit_dtype(out.dtype(), [&](auto type) {
      using T = decltype(type);
      const half* cond = a.data_as<half>();
      const T* x = b.data_as<T>();
      const T* y = c.data_as<T>();
      T* dst = out.data_as<T>();
      for_each_block(layout, [&](const std::array<int64_t, 4>& off, int64_t n) {
        for (int64_t i = 0; i < n; ++i) {
          dst[off[3] + i * s3] = to_float(cond[off[0] + i * s0]) != 0.0f ? x[off[1] + i * s1] : y[off[2] + i * s2];
        }
      });
    });
    return;
  }
  const half* pa = a.data_as<half>();
  const half* pb = b.data_as<half>();
  const half* pc = c.data_as<half>();
  half* po = out.data_as<half>();
  // Vector path, as for binary ops: unit-stride output, each operand unit-stride or constant along the run.
  if (const simd::NaryKernel kernel = simd::ternary_kernel(op); kernel && s3 == 1 && s0 <= 1 && s1 <= 1 && s2 <= 1) {
    const half* base[3] = {pa, pb, pc};
    const int64_t stride[3] = {s0, s1, s2};
    parallel_for(layout.numel, kGrain, [&](int64_t begin, int64_t end) {
      layout.for_each_run(begin, end, [&](const std::array<int64_t, 4>& off, int64_t n) {
        const half* in[3];
        float scalars[3];
        for (int k = 0; k < 3; ++k) {
          in[k] = stride[k] == 1 ? base[k] + off[k] : nullptr;
          scalars[k] = to_float(base[k][off[k]]);
        }
        kernel(in, scalars, po + off[3], n);
      });
    });
    return;
  }
  for_each_block(layout, [&](const std::array<int64_t, 4>& off, int64_t n) {
    float x[kBlock], y[kBlock], z[kBlock];
    load_block(pa + off[0], s0, n, x);
    load_block(pb + off[1], s1, n, y);
    load_block(pc + off[2], s2, n, z);
    if (op == TernaryOp::where) {
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] != 0.0f ? y[i] : z[i];
    } else {
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] * y[i] + z[i];
    }
    store_block(x, n, po + off[3], s3);
  });
}

// dx row by row in chunks of kActivationRows rows, each row added into its chunk's f32 column sums while still in
// cache; the chunks' sums are then added in chunk order (the same for any number of threads).
constexpr int64_t kActivationRows = 32;

bool CpuBackend::activation_backward_columns(BinaryOp op, const Array& grad, const Array& x, int64_t rows, int64_t n,
                                             const Array& dx, const Array& sums) {
  const simd::NaryKernel kernel = simd::binary_kernel(op);
  if (!kernel) return false;
  const int64_t chunks = (rows + kActivationRows - 1) / kActivationRows;
  std::vector<float> partial(static_cast<size_t>(chunks * n), 0.0f);
  const half *pg = grad.data_as<half>(), *px = x.data_as<half>();
  half* po = dx.data_as<half>();
  const float scalars[2] = {0.0f, 0.0f};
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      for (int64_t r = c * kActivationRows; r < std::min(rows, (c + 1) * kActivationRows); ++r) {
        const half* in[2] = {pg + r * n, px + r * n};
        kernel(in, scalars, po + r * n, n);
        add_f16_row(partial.data() + c * n, n, po + r * n, 1);
      }
    }
  });
  for (int64_t c = 1; c < chunks; ++c) {
    for (int64_t j = 0; j < n; ++j) partial[j] += partial[c * n + j];
  }
  f32_to_f16(partial.data(), sums.data_as<half>(), n);
  return true;
}

}  // namespace tensorlogic::cpu
