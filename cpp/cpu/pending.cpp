// Kernel families of the CPU backend that are still being written: they raise instead of computing.
// (This file disappears as each family lands.)
#include "cpu_backend.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cpu {

static void pending(const char* what) { throw DeviceError(std::string("cpu: ") + what + " is not implemented yet"); }

void CpuBackend::gather(const Array&, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("gather"); }
void CpuBackend::scatter_add(const Array&, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("scatter_add"); }
void CpuBackend::index_select(const Array&, const Array&, int64_t, int64_t, int64_t, const Array&) { pending("index_select"); }

}  // namespace tensorlogic::cpu
