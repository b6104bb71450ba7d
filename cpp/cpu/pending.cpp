// Kernel families of the CPU backend that are still being written: they raise instead of computing.
// (This file disappears as each family lands.)
#include "cpu_backend.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cpu {

static void pending(const char* what) { throw DeviceError(std::string("cpu: ") + what + " is not implemented yet"); }

void CpuBackend::reduce(ReduceOp, const Array&, int64_t, int64_t, int64_t, const Array&, const ReduceParams&) { pending("reduce"); }
void CpuBackend::rows(RowOp, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("rows"); }
void CpuBackend::norm(bool, const Array&, int64_t, int64_t, const Array*, const Array*, double, const Array&) { pending("norm"); }
void CpuBackend::gather(const Array&, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("gather"); }
void CpuBackend::scatter_add(const Array&, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("scatter_add"); }
void CpuBackend::index_select(const Array&, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("index_select"); }
void CpuBackend::random(RandomKind, uint64_t, uint64_t, double, double, const Array&) { pending("random"); }

}  // namespace tensorlogic::cpu
