// The exact reduction family of the CPU backend: bool, int32 and int64 data reduced in int64 (sum, prod,
// max, min, argmax, argmin) over contiguous [outer, n, inner], one output per task slice.
#include "../kernels/reduce_int.h"
#include "cpu_backend.h"
#include "parallel.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kGrain = 1 << 14;

template <ReduceOp Op, typename T>
void reduce_typed(const T* in, int64_t outer, int64_t n, int64_t inner, int64_t* out) {
  const int64_t outputs = outer * inner;
  parallel_for(outputs, std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const T* row = in + (k / inner) * n * inner + k % inner;
      kernels::IntAcc acc = kernels::int_identity<Op>();
      for (int64_t j = 0; j < n; ++j) acc = kernels::int_step<Op>(acc, static_cast<int64_t>(row[j * inner]), j);
      out[k] = kernels::int_result<Op>(acc);
    }
  });
}

}  // namespace

void CpuBackend::reduce_int(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) {
  visit_dtype(in.dtype(), [&](auto type) {
    using T = decltype(type);
    if constexpr (!std::is_same_v<T, half>) {
      const T* src = in.data_as<T>();
      int64_t* dst = out.data_as<int64_t>();
      switch (op) {
        case ReduceOp::sum: return reduce_typed<ReduceOp::sum>(src, outer, n, inner, dst);
        case ReduceOp::prod: return reduce_typed<ReduceOp::prod>(src, outer, n, inner, dst);
        case ReduceOp::max: return reduce_typed<ReduceOp::max>(src, outer, n, inner, dst);
        case ReduceOp::min: return reduce_typed<ReduceOp::min>(src, outer, n, inner, dst);
        case ReduceOp::argmax: return reduce_typed<ReduceOp::argmax>(src, outer, n, inner, dst);
        case ReduceOp::argmin: return reduce_typed<ReduceOp::argmin>(src, outer, n, inner, dst);
        default: break;
      }
    }
    throw DeviceError(std::string("cpu: ") + reduce_name(op) + " has no exact kernel for " + dtype_name(in.dtype()));
  });
}

}  // namespace tensorlogic::cpu
