// The device side of deferred errors (deferred_error.cu): a check kernel that finds a value out of range
// records it in its device's record and carries on with safe accesses; the host raises the error at its next
// wait for the device. Kernels of other files (the embedding's backward) record through this header.
#pragma once
#include <cstdint>

namespace tensorlogic::cuda {

// The first failure since the host last read the record (`raised` taken with atomicCAS); its other fields are
// written by the one thread that took it, and are complete once that kernel has finished.
struct DeferredRecord {
  int raised;
  long long value, classes, ignore_index, dim;
  unsigned long long op;  // the host's `const char*` literal naming the op
};

// Records value v, out of [0, classes) and not ignore_index (kNoIgnoredIndex: an index into dimension `dim`
// of that size), unless an earlier failure holds the record.
__device__ __forceinline__ void record_out_of_range(DeferredRecord* record, int64_t v, int64_t classes,
                                                    int64_t ignore_index, unsigned long long op, int64_t dim = 0) {
  if (atomicCAS(&record->raised, 0, 1) == 0) {
    record->value = v;
    record->classes = classes;
    record->ignore_index = ignore_index;
    record->dim = dim;
    record->op = op;
  }
}

// The selected device's record (made on its first use, which may not be during a graph capture).
DeferredRecord* deferred_record();
// (arm_deferred_record, after queueing such kernels: cuda_backend.h.)
// The op's name as the kernels carry it.
inline unsigned long long op_tag(const char* op) { return reinterpret_cast<unsigned long long>(op); }

}  // namespace tensorlogic::cuda
