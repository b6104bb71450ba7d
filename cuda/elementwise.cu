// Elementwise kernel families on CUDA: the scalar math of cpp/kernels/elementwise.h (compiled for the
// device), computed in f32 and rounded once, through the map kernels of map.cuh.
#include <memory>

#include "../cpp/core/op_dispatch.h"
#include "../cpp/kernels/elementwise.h"
#include "cuda_backend.h"
#include "map.cuh"

namespace tensorlogic::cuda {
namespace {

template <UnaryOp Op>
struct UnaryF16 {
  UnaryParams p;
  __device__ float operator()(float x) const { return kernels::unary_f32(Op, x, p.a, p.b); }
};
template <UnaryOp Op>
struct UnaryI32 {
  UnaryParams p;
  __device__ int32_t operator()(int32_t x) const { return kernels::unary_i32(Op, x, p.a, p.b); }
};
template <BinaryOp Op>
struct BinaryF16 {
  __device__ float operator()(float a, float b) const { return kernels::binary_f32(Op, a, b); }
};
// A scalar operand on the left (kLeft) or the right of the array operand.
template <BinaryOp Op, bool kLeft, typename T>
struct BinaryScalar {
  T s;
  int* zero_div;
  __device__ auto operator()(T x) const {
    if constexpr (std::is_same_v<T, float>) {
      return kLeft ? kernels::binary_f32(Op, s, x) : kernels::binary_f32(Op, x, s);
    } else {
      return int_op(kLeft ? s : x, kLeft ? x : s);
    }
  }
  __device__ auto int_op(int32_t a, int32_t b) const;
};
template <BinaryOp Op>
struct BinaryI32 {
  int* zero_div;
  __device__ int32_t operator()(int32_t a, int32_t b) const {
    bool flag = false;
    const int32_t r = kernels::binary_i32(Op, a, b, &flag);
    if (flag) *zero_div = 1;
    return r;
  }
};
template <BinaryOp Op>
struct CompareI32 {
  int* zero_div;
  __device__ float operator()(int32_t a, int32_t b) const { return kernels::compare(Op, a, b); }
};
template <BinaryOp Op, bool kLeft, typename T>
__device__ auto BinaryScalar<Op, kLeft, T>::int_op(int32_t a, int32_t b) const {
  if constexpr (is_comparison(Op)) {
    return CompareI32<Op>{zero_div}(a, b);
  } else {
    return BinaryI32<Op>{zero_div}(a, b);
  }
}

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
    check(cudaMemcpyAsync(&host, scratch_->as<int>(), sizeof(int), cudaMemcpyDeviceToHost, stream()), "cudaMemcpyAsync");
    check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
    return host != 0;
  }

 private:
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace

void CudaBackend::unary(UnaryOp op, const Array& in, const Array& out, const UnaryParams& params) {
  if (in.dtype() == Dtype::int32) {
    if (!unary_keeps_int(op)) throw DeviceError(std::string("cuda: ") + unary_name(op) + " has no int32 kernel");
    dispatch_unary(op, [&](auto tag) {
      launch_map<int32_t, int32_t, 1>({&in}, out, UnaryI32<decltype(tag)::value>{params});
    });
    return;
  }
  dispatch_unary(op, [&](auto tag) { launch_map<__half, __half, 1>({&in}, out, UnaryF16<decltype(tag)::value>{params}); });
}

void CudaBackend::binary(BinaryOp op, const Operand& a, const Operand& b, const Array& out) {
  const Array& arr = a.array ? *a.array : *b.array;
  const bool int_in = arr.dtype() == Dtype::int32;
  const bool need_flag = int_in && (op == BinaryOp::floor_divide || op == BinaryOp::remainder);
  const ZeroDivFlag flag(need_flag);
  dispatch_binary(op, [&](auto tag) {
    constexpr BinaryOp kOp = decltype(tag)::value;
    if (!int_in) {
      if (a.array && b.array) {
        launch_map<__half, __half, 2>({a.array, b.array}, out, BinaryF16<kOp>{});
      } else if (a.array) {
        launch_map<__half, __half, 1>({a.array}, out, BinaryScalar<kOp, false, float>{static_cast<float>(b.scalar), nullptr});
      } else {
        launch_map<__half, __half, 1>({b.array}, out, BinaryScalar<kOp, true, float>{static_cast<float>(a.scalar), nullptr});
      }
      return;
    }
    auto run = [&](auto out_tag) {
      using Out = decltype(out_tag);
      if (a.array && b.array) {
        if constexpr (std::is_same_v<Out, __half>) {
          launch_map<int32_t, __half, 2>({a.array, b.array}, out, CompareI32<kOp>{flag.ptr()});
        } else {
          launch_map<int32_t, int32_t, 2>({a.array, b.array}, out, BinaryI32<kOp>{flag.ptr()});
        }
      } else if (a.array) {
        launch_map<int32_t, Out, 1>({a.array}, out, BinaryScalar<kOp, false, int32_t>{static_cast<int32_t>(b.scalar), flag.ptr()});
      } else {
        launch_map<int32_t, Out, 1>({b.array}, out, BinaryScalar<kOp, true, int32_t>{static_cast<int32_t>(a.scalar), flag.ptr()});
      }
    };
    if (is_comparison(kOp)) {
      run(__half{});
    } else {
      run(int32_t{});
    }
  });
  if (flag.raised()) throw ArgumentError(std::string(binary_name(op)) + ": integer division by zero");
}

namespace {
__global__ void where_i32(Strided<4> layout, int64_t n, const __half* cond, const int32_t* x, const int32_t* y,
                          int32_t* out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[4];
    layout.offsets(i, off);
    out[off[3]] = __half2float(cond[off[0]]) != 0.0f ? x[off[1]] : y[off[2]];
  }
}
}  // namespace

void CudaBackend::ternary(TernaryOp op, const Array& a, const Array& b, const Array& c, const Array& out) {
  if (op == TernaryOp::where && out.dtype() == Dtype::int32) {
    const Strided<4> layout = make_strided<4>(out.shape(), {&a.strides(), &b.strides(), &c.strides(), &out.strides()});
    const int64_t n = out.numel();
    where_i32<<<grid_stride_blocks(n), kThreads, 0, stream()>>>(layout, n, a.data_as<__half>(), b.data_as<int32_t>(),
                                                                 c.data_as<int32_t>(), out.data_as<int32_t>());
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
