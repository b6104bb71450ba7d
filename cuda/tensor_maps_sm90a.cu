// Host side of the Hopper kernels: the driver's tensor-map encoder and the device check (tensor_maps_sm90a.h).
#include "tensor_maps_sm90a.h"

#include <cudaTypedefs.h>

#include <algorithm>
#include <atomic>
#include <climits>

#include "attention_tiled.h"
#include "common.cuh"

namespace tensorlogic::cuda {
namespace {

// cuTensorMapEncodeTiled from the driver the runtime uses (no link against libcuda); null where it has none.
PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* f = nullptr;
    cudaDriverEntryPointQueryResult found{};
#if CUDART_VERSION >= 12050
    const cudaError_t err = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000, cudaEnableDefault, &found);
#else
    const cudaError_t err = cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &f, cudaEnableDefault, &found);
#endif
    if (err != cudaSuccess || found != cudaDriverEntryPointSuccess) {
      cudaGetLastError();  // the lookup's error is an answer, not a fault of the next kernel
      return static_cast<PFN_cuTensorMapEncodeTiled_v12000>(nullptr);
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(f);
  }();
  return fn;
}

}  // namespace

bool device_is_sm90() {
  static std::atomic<int> known[kMaxDevices];  // 0: not asked yet, 1: yes, 2: no
  std::atomic<int>& slot = known[current_device()];
  int v = slot.load(std::memory_order_acquire);
  if (v == 0) {
    int major = 0, minor = 0;
    check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, current_device()), "cudaDeviceGetAttribute");
    check(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, current_device()), "cudaDeviceGetAttribute");
    v = major == 9 && minor == 0 ? 1 : 2;
    slot.store(v, std::memory_order_release);
  }
  return v == 1;
}

bool encode_rows_map(CUtensorMap* map, BatchSteps* steps, const Array& x, uint32_t box_rows) {
  const auto enc = tensor_map_encoder();
  if (!enc) return false;
  constexpr uint64_t kHalf = sizeof(__half);
  const int64_t e = x.shape()[3];
  if (x.shape()[2] > 1 && x.strides()[2] == 0) return false;  // rows repeated by a stride of 0: no map walks them
  // A batch axis read only at 0 gets size 1; its stride is never applied, any valid one will do.
  const auto axis = [&](int d, uint64_t* size, uint64_t* stride) {
    const int64_t st = stride_of(x, d);
    *size = st == 0 ? 1 : static_cast<uint64_t>(x.shape()[d]);
    *stride = st == 0 ? e * kHalf : static_cast<uint64_t>(st) * kHalf;
    return st == 0 ? 0 : 1;
  };
  cuuint64_t dims[4], strides[3];
  dims[0] = static_cast<cuuint64_t>(e);
  axis(2, &dims[1], &strides[0]);
  steps->inner = axis(1, &dims[2], &strides[1]);
  steps->outer = axis(0, &dims[3], &strides[2]);
  const cuuint32_t box[4] = {kSwizzleCols, box_rows, 1, 1};
  const cuuint32_t elem_strides[4] = {1, 1, 1, 1};
  return enc(map, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 4, const_cast<void*>(x.data()), dims, strides, box, elem_strides,
             CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
             CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

bool encode_f32_rows_map(CUtensorMap* map, float* x, int64_t batches, int64_t rows, int64_t cols, uint32_t box_rows) {
  const auto enc = tensor_map_encoder();
  if (!enc || batches > INT_MAX || rows > INT_MAX || cols % 32 != 0) return false;
  constexpr uint64_t kFloat = sizeof(float);
  const cuuint64_t dims[3] = {static_cast<cuuint64_t>(cols), static_cast<cuuint64_t>(rows), static_cast<cuuint64_t>(batches)};
  const cuuint64_t strides[2] = {cols * kFloat, rows * cols * kFloat};
  const cuuint32_t box[3] = {32, box_rows, 1};
  const cuuint32_t elem_strides[3] = {1, 1, 1};
  return enc(map, CU_TENSOR_MAP_DATA_TYPE_FLOAT32, 3, x, dims, strides, box, elem_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
             CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

bool hopper_attention_fits(const Array& q, const Array& k, const Array& v, std::initializer_list<const Array*> others,
                           std::initializer_list<int> head_dims) {
  const int64_t len = q.shape()[2], keys = k.shape()[2], e = q.shape()[3], ev = v.shape()[3];
  if (e != ev || std::find(head_dims.begin(), head_dims.end(), e) == head_dims.end() || keys == 0) return false;
  if (len > INT_MAX / 2 || keys > INT_MAX / 2) return false;            // row and key coordinates are int
  if (q.shape()[0] > INT_MAX || q.shape()[1] > INT_MAX) return false;   // so are the batch coordinates
  for (const Array* x : {&q, &k, &v}) {
    if (!rows_of_chunks(*x)) return false;
  }
  for (const Array* x : others) {
    if (!rows_of_chunks(*x)) return false;
  }
  return device_is_sm90();
}

}  // namespace tensorlogic::cuda
