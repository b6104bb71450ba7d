// Elementwise kernel families on CUDA: the scalar math of cpp/kernels/elementwise.h (compiled for the
// device), computed in f32 and rounded once, through the map kernels of map.cuh.
#include <memory>

#include "../cpp/core/op_dispatch.h"
#include "../cpp/kernels/elementwise.h"
#include "column_sums.cuh"
#include "cuda_backend.h"
#include "map.cuh"

namespace tensorlogic::cuda {
namespace {

template <UnaryOp Op>
struct UnaryF16 {
  UnaryParams p;
  __device__ float operator()(float x) const { return kernels::unary_f32(Op, x, p.a, p.b); }
};
template <UnaryOp Op, typename T>
struct UnaryInt {
  UnaryParams p;
  __device__ T operator()(T x) const { return kernels::unary_int(Op, x, p.a, p.b); }
};
template <BinaryOp Op>
struct BinaryF16 {
  __device__ float operator()(float a, float b) const { return kernels::binary_f32(Op, a, b); }
};
template <BinaryOp Op, typename T>
struct BinaryInt {
  int* zero_div;
  __device__ T operator()(T a, T b) const {
    bool flag = false;
    const T r = kernels::binary_int(Op, a, b, &flag);
    if (flag) *zero_div = 1;
    return r;
  }
};
template <BinaryOp Op, typename T>
struct CompareInt {
  int* zero_div;
  __device__ float operator()(T a, T b) const { return kernels::compare(Op, a, b); }
};
// A scalar operand on the left (kLeft) or the right of the array operand: float, int32 or int64.
template <BinaryOp Op, bool kLeft, typename T>
struct BinaryScalar {
  T s;
  int* zero_div;
  __device__ auto operator()(T x) const {
    const T l = kLeft ? s : x, r = kLeft ? x : s;
    if constexpr (std::is_same_v<T, float>) {
      return kernels::binary_f32(Op, l, r);
    } else if constexpr (is_comparison(Op)) {
      return CompareInt<Op, T>{zero_div}(l, r);
    } else {
      return BinaryInt<Op, T>{zero_div}(l, r);
    }
  }
};

// GELU (the erf form) and its backward, specialised: with CUDA's erfcf these maps took ~60 and ~80
// instructions per element, which made them compute-bound on an H100 (at HBM3's bandwidth, 4 and 6 bytes per
// element leave room for ~30 and ~45). Here erfc is the fit of kernels::erfc_fit_exponent with the hardware's
// approximate exp2 and reciprocal (relative errors ~1e-7), ~20 and ~30 instructions: over every f16 input the
// f16 results stay within 1 ulp of float64's (tests/test_elementwise.py), as erfcf's did.
// Phi(x) = erfc(-x / sqrt 2) / 2, and `gauss` = exp(-x^2 / 2) for the derivative x phi(x). x Phi(x) rather than
// x - x erfc / 2, so that gelu(inf) = inf.
__device__ __forceinline__ float gelu_cdf(float x, float& gauss) {
  const float z = fabsf(x) * 0.70710678118654752f;
  const float t = __fdividef(1.0f, 1.0f + 0.5f * z);
  gauss = __expf(-z * z);
  const float half_erfc = 0.5f * t * gauss * __expf(kernels::erfc_fit_exponent(t));
  return x >= 0.0f ? 1.0f - half_erfc : half_erfc;
}
template <>
struct UnaryF16<UnaryOp::gelu> {
  UnaryParams p;
  __device__ float operator()(float x) const {
    float gauss;
    return x * gelu_cdf(x, gauss);
  }
};
template <>
struct BinaryF16<BinaryOp::gelu_backward> {  // grad a times gelu'(b) = Phi(b) + b phi(b) (Taylor near its root)
  __device__ float operator()(float a, float b) const {
    float gauss;
    const float cdf = gelu_cdf(b, gauss);
    return a * kernels::near_root_or(b, kernels::gelu_grad_root(), cdf + b * 0.39894228040143268f * gauss);
  }
};

struct Affine {
  __device__ float operator()(float a, float b, float c) const { return a * b + c; }
};
struct WhereF16 {
  __device__ float operator()(float c, float a, float b) const { return c != 0.0f ? a : b; }
};

// A flag the integer division kernels raise on a zero divisor, read back after the launch.
class ZeroDivFlag {
 public:
  explicit ZeroDivFlag(bool needed) {
    if (!needed) return;
    scratch_ = std::make_unique<Scratch>(sizeof(int));
    check(cudaMemsetAsync(scratch_->as<int>(), 0, sizeof(int), stream()), "cudaMemsetAsync");
  }
  int* ptr() const { return scratch_ ? scratch_->as<int>() : nullptr; }
  bool raised() const {
    if (!scratch_) return false;
    int host = 0;
    device_to_host(&host, scratch_->as<int>(), sizeof(int));
    return host != 0;
  }

 private:
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace

void CudaBackend::unary(UnaryOp op, const Array& in, const Array& out, const UnaryParams& params) {
  if (is_integer(in.dtype())) {
    if (!unary_keeps_int(op)) {
      throw DeviceError(std::string("cuda: ") + unary_name(op) + " has no " + dtype_name(in.dtype()) + " kernel");
    }
    visit_int(in.dtype(), [&](auto type) {
      using T = decltype(type);
      dispatch_unary(op, [&](auto tag) { launch_map<T, T, 1>({&in}, out, UnaryInt<decltype(tag)::value, T>{params}); });
    });
    return;
  }
  dispatch_unary(op, [&](auto tag) { launch_map<__half, __half, 1>({&in}, out, UnaryF16<decltype(tag)::value>{params}); });
}

void CudaBackend::binary(BinaryOp op, const Operand& a, const Operand& b, const Array& out) {
  const Array& arr = a.array ? *a.array : *b.array;
  const bool int_in = is_integer(arr.dtype());
  const bool need_flag = int_in && (op == BinaryOp::floor_divide || op == BinaryOp::remainder);
  const ZeroDivFlag flag(need_flag);
  if (!int_in) {
    dispatch_binary(op, [&](auto tag) {
      constexpr BinaryOp kOp = decltype(tag)::value;
      if (a.array && b.array) {
        launch_map<__half, __half, 2>({a.array, b.array}, out, BinaryF16<kOp>{});
      } else if (a.array) {
        launch_map<__half, __half, 1>({a.array}, out, BinaryScalar<kOp, false, float>{static_cast<float>(b.scalar), nullptr});
      } else {
        launch_map<__half, __half, 1>({b.array}, out, BinaryScalar<kOp, true, float>{static_cast<float>(a.scalar), nullptr});
      }
    });
  } else {
    // Comparisons write f16 0/1 (the core converts them to bool); the other ops keep the integer type.
    visit_int(arr.dtype(), [&](auto type) {
      using T = decltype(type);
      dispatch_binary(op, [&](auto tag) {
        constexpr BinaryOp kOp = decltype(tag)::value;
        auto run = [&](auto out_tag) {
          using Out = decltype(out_tag);
          if (a.array && b.array) {
            if constexpr (std::is_same_v<Out, __half>) {
              launch_map<T, __half, 2>({a.array, b.array}, out, CompareInt<kOp, T>{flag.ptr()});
            } else {
              launch_map<T, T, 2>({a.array, b.array}, out, BinaryInt<kOp, T>{flag.ptr()});
            }
          } else if (a.array) {
            launch_map<T, Out, 1>({a.array}, out, BinaryScalar<kOp, false, T>{static_cast<T>(b.scalar), flag.ptr()});
          } else {
            launch_map<T, Out, 1>({b.array}, out, BinaryScalar<kOp, true, T>{static_cast<T>(a.scalar), flag.ptr()});
          }
        };
        if constexpr (is_comparison(kOp)) {
          run(__half{});
        } else {
          run(T{});
        }
      });
    });
  }
  if (flag.raised()) throw ArgumentError(std::string(binary_name(op)) + ": integer division by zero");
}

namespace {
// dx = f(grad, x) over contiguous [rows, n] (n a multiple of 8), with dx's column sums as rounded in the same pass:
// block (32, kActLanes) holds 256 columns of one split of the rows (column_sums.cuh). On an H100 at [8192, 3072],
// GELU's backward and then the column sums took 79 us, this 64 us; 16 lanes and two blocks per SM were the best.
// dx is always a fresh array (activation_backward_column_sums), so the operands are __restrict__: the unrolled
// rows' loads may then be issued ahead of the previous row's store.
constexpr int kActLanes = 16, kActBlocksPerSm = 2;
template <typename F>
__global__ void __launch_bounds__(32 * kActLanes)
    activation_columns(F f, const __half* __restrict__ grad, const __half* __restrict__ x, int64_t rows, int64_t n,
                       int64_t seg, __half* __restrict__ dx, float* partial, int* tickets, __half* sums) {
  const int64_t groups = n / 8, g0 = blockIdx.x * int64_t{32}, g = g0 + threadIdx.x, s = blockIdx.y;
  const int64_t begin = s * seg, end = min(rows, begin + seg);
  float acc[8] = {};
  if (g < groups) {
#pragma unroll 4
    for (int64_t r = begin + threadIdx.y; r < end; r += kActLanes) {
      const int64_t at = r * n + g * 8;
      const Half8 a = *reinterpret_cast<const Half8*>(grad + at), b = *reinterpret_cast<const Half8*>(x + at);
      Half8 out;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        out.h[j] = __float2half_rn(f(__half2float(a.h[j]), __half2float(b.h[j])));
        acc[j] += __half2float(out.h[j]);
      }
      *reinterpret_cast<Half8*>(dx + at) = out;
    }
  }
  store_column_sums<kActLanes>(acc, g0, groups, s, gridDim.y, partial, tickets, sums, 1.0f);
}

template <typename T>
__global__ void where_values(Strided<4> layout, int64_t n, const __half* cond, const T* x, const T* y, T* out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[4];
    layout.offsets(i, off);
    out[off[3]] = __half2float(cond[off[0]]) != 0.0f ? x[off[1]] : y[off[2]];
  }
}
}  // namespace

bool CudaBackend::activation_backward_columns(BinaryOp op, const Array& grad, const Array& x, int64_t rows, int64_t n,
                                              const Array& dx, const Array& sums) {
  if (n % 8 != 0 || !aligned16(grad.data()) || !aligned16(x.data()) || !aligned16(dx.data())) return false;
  const int64_t col_blocks = (n / 8 + 31) / 32;
  const auto [splits, seg] = column_splits(rows, col_blocks, kActBlocksPerSm);
  std::unique_ptr<Scratch> partial;
  if (splits > 1) partial = std::make_unique<Scratch>(sizeof(float) * n * splits);
  float* ws = partial ? partial->as<float>() : nullptr;
  int* tickets = ws ? column_tickets(col_blocks) : nullptr;
  auto launch = [&](auto f) {
    activation_columns<<<dim3(static_cast<unsigned>(col_blocks), static_cast<unsigned>(splits)), dim3(32, kActLanes),
                         0, stream()>>>(f, grad.data_as<__half>(), x.data_as<__half>(), rows, n, seg,
                                        dx.data_as<__half>(), ws, tickets, sums.data_as<__half>());
    check_launch("activation backward kernel");
  };
  switch (op) {
    case BinaryOp::gelu_backward: launch(BinaryF16<BinaryOp::gelu_backward>{}); break;
    case BinaryOp::gelu_tanh_backward: launch(BinaryF16<BinaryOp::gelu_tanh_backward>{}); break;
    case BinaryOp::silu_backward: launch(BinaryF16<BinaryOp::silu_backward>{}); break;
    case BinaryOp::tanh_backward: launch(BinaryF16<BinaryOp::tanh_backward>{}); break;
    default: return false;
  }
  if (ws && !tickets) merge_column_partials(ws, n, splits, sums.data_as<__half>(), 1.0f);
  return true;
}

void CudaBackend::ternary(TernaryOp op, const Array& a, const Array& b, const Array& c, const Array& out) {
  if (op == TernaryOp::where && out.dtype() != Dtype::float16) {  // integer or bool values, an f16 condition
    const Strided<4> layout = make_strided<4>(out.shape(), {&a.strides(), &b.strides(), &c.strides(), &out.strides()});
    const int64_t n = out.numel();
    visit_device_dtype(out.dtype(), [&](auto type) {
      using T = decltype(type);
      where_values<T><<<grid_stride_blocks(n), kThreads, 0, stream()>>>(layout, n, a.data_as<__half>(), b.data_as<T>(),
                                                                         c.data_as<T>(), out.data_as<T>());
    });
    check_launch("where kernel");
    return;
  }
  if (op == TernaryOp::where) {
    launch_map<__half, __half, 3>({&a, &b, &c}, out, WhereF16{});
  } else {
    launch_map<__half, __half, 3>({&a, &b, &c}, out, Affine{});
  }
}

}  // namespace tensorlogic::cuda
