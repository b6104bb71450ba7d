// Kernel families of the CPU backend that are still being written: they raise instead of computing.
// (This file disappears as each family lands.)
#include "cpu_backend.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cpu {

static void pending(const char* what) { throw DeviceError(std::string("cpu: ") + what + " is not implemented yet"); }

void CpuBackend::reduce(ReduceOp, const Array&, int64_t, int64_t, int64_t, const Array&, const ReduceParams&) { pending("reduce"); }
void CpuBackend::rows(RowOp, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("rows"); }
void CpuBackend::norm(bool, const Array&, int64_t, int64_t, const Array*, const Array*, double, const Array&) { pending("norm"); }
void CpuBackend::gemm(const Array&, const Array&, const Array&, const GemmEpilogue&) { pending("gemm"); }
void CpuBackend::im2col(const Array&, const int64_t[2], const Conv2dArgs&, int64_t, int64_t, const Array&) { pending("im2col"); }
void CpuBackend::col2im(const Array&, const int64_t[2], const Conv2dArgs&, int64_t, int64_t, const Array&) { pending("col2im"); }
void CpuBackend::tri(const Array&, int64_t, bool, const Array&) { pending("tri"); }
void CpuBackend::random(RandomKind, uint64_t, uint64_t, double, double, const Array&) { pending("random"); }

}  // namespace tensorlogic::cpu
