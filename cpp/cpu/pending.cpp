// Kernel families of the CPU backend that are still being written: they raise instead of computing.
// (This file disappears as each family lands.)
#include "cpu_backend.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cpu {

static void pending(const char* what) { throw DeviceError(std::string("cpu: ") + what + " is not implemented yet"); }

void CpuBackend::gemm(const Array&, const Array&, const Array&, const GemmEpilogue&) { pending("gemm"); }
void CpuBackend::gather(const Array&, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("gather"); }
void CpuBackend::scatter_add(const Array&, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("scatter_add"); }
void CpuBackend::index_select(const Array&, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("index_select"); }
void CpuBackend::im2col(const Array&, const int64_t[2], const Conv2dArgs&, int64_t, int64_t, const Array&) { pending("im2col"); }
void CpuBackend::col2im(const Array&, const int64_t[2], const Conv2dArgs&, int64_t, int64_t, const Array&) { pending("col2im"); }
void CpuBackend::tri(const Array&, int64_t, bool, const Array&) { pending("tri"); }

}  // namespace tensorlogic::cpu
