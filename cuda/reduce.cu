// Reductions over the middle axis of contiguous [outer, n, inner] data, accumulated in f32. Rows
// (inner == 1) are read by whole blocks with 16-byte loads; columns by one thread per 8 outputs with 16-byte
// loads when inner allows (sums and means with float states alone: sum_cols_vec), else one thread per output.
// Long axes are split over several blocks whose partial states a second kernel merges (column sums: the last
// block of each column, column_sums.cuh).
#include <cmath>
#include <mutex>

#include "column_sums.cuh"
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

// The running state of one reduction; field meanings depend on the op (see Reducer).
struct Acc {
  float a;
  float b;
  int64_t i;
};

template <ReduceOp Op>
struct Reducer {
  float p;           // norm: the order
  float correction;  // var

  __device__ __forceinline__ Acc init() const {
    if constexpr (Op == ReduceOp::prod) return {1.0f, 0.0f, 0};
    if constexpr (Op == ReduceOp::max || Op == ReduceOp::argmax) return {-INFINITY, 0.0f, -1};
    if constexpr (Op == ReduceOp::min || Op == ReduceOp::argmin) return {INFINITY, 0.0f, -1};
    if constexpr (Op == ReduceOp::logsumexp) return {-INFINITY, 0.0f, 0};
    if constexpr (Op == ReduceOp::norm) return {p == INFINITY ? 0.0f : (p == -INFINITY ? INFINITY : 0.0f), 0.0f, 0};
    return {0.0f, 0.0f, 0};
  }

  // Is `v` (at index vi) preferred over the current extreme `a` (at index ai)? NaN wins, then ties
  // go to the lower index, like PyTorch.
  __device__ __forceinline__ static bool better(float v, int64_t vi, float a, int64_t ai) {
    if (ai < 0) return true;
    if (vi < 0) return false;
    const bool vn = v != v, an = a != a;
    if (vn || an) return vn && (!an || vi < ai);
    if (v == a) return vi < ai;
    if constexpr (Op == ReduceOp::max || Op == ReduceOp::argmax) return v > a;
    return v < a;
  }

  __device__ __forceinline__ void push(Acc& s, float v, int64_t idx) const {
    if constexpr (Op == ReduceOp::sum || Op == ReduceOp::mean) {
      s.a += v;
    } else if constexpr (Op == ReduceOp::prod) {
      s.a *= v;
    } else if constexpr (Op == ReduceOp::max || Op == ReduceOp::min || Op == ReduceOp::argmax ||
                         Op == ReduceOp::argmin) {
      if (better(v, idx, s.a, s.i)) s = {v, 0.0f, idx};
    } else if constexpr (Op == ReduceOp::var) {  // Welford: a mean, b sum of squared deviations, i count
      s.i += 1;
      const float d = v - s.a;
      s.a += d / static_cast<float>(s.i);
      s.b += d * (v - s.a);
    } else if constexpr (Op == ReduceOp::logsumexp) {  // a running max, b sum of exp(x - a)
      if (v != v || s.a != s.a) {
        s.a = v + s.a;
      } else if (v > s.a) {
        s.b = s.b * expf(s.a - v) + 1.0f;
        s.a = v;
      } else if (v == s.a) {
        s.b += 1.0f;
      } else {
        s.b += expf(v - s.a);
      }
    } else if constexpr (Op == ReduceOp::norm) {
      const float x = fabsf(v);
      if (p == INFINITY) {
        s.a = (x > s.a || x != x) ? x : s.a;
      } else if (p == -INFINITY) {
        s.a = (x < s.a || x != x) ? x : s.a;
      } else if (p == 0.0f) {
        s.a += x != 0.0f ? 1.0f : 0.0f;
      } else if (p == 1.0f) {
        s.a += x;
      } else if (p == 2.0f) {
        s.a += x * x;
      } else {
        s.a += powf(x, p);
      }
    }
  }

  __device__ __forceinline__ Acc merge(Acc l, const Acc& r) const {
    if constexpr (Op == ReduceOp::sum || Op == ReduceOp::mean) {
      l.a += r.a;
    } else if constexpr (Op == ReduceOp::prod) {
      l.a *= r.a;
    } else if constexpr (Op == ReduceOp::max || Op == ReduceOp::min || Op == ReduceOp::argmax ||
                         Op == ReduceOp::argmin) {
      if (better(r.a, r.i, l.a, l.i)) l = r;
    } else if constexpr (Op == ReduceOp::var) {
      if (r.i == 0) return l;
      if (l.i == 0) return r;
      const float n = static_cast<float>(l.i + r.i);
      const float d = r.a - l.a;
      l.a += d * (static_cast<float>(r.i) / n);
      l.b += r.b + d * d * (static_cast<float>(l.i) * static_cast<float>(r.i) / n);
      l.i += r.i;
    } else if constexpr (Op == ReduceOp::logsumexp) {
      if (l.a != l.a || r.a != r.a) {
        l.a = l.a + r.a;
      } else if (r.a == -INFINITY) {
      } else if (l.a == -INFINITY) {
        l = r;
      } else if (r.a > l.a) {
        l.b = l.b * expf(l.a - r.a) + r.b;
        l.a = r.a;
      } else {
        l.b += r.b * expf(r.a - l.a);
      }
    } else if constexpr (Op == ReduceOp::norm) {
      if (p == INFINITY) {
        l.a = (r.a > l.a || r.a != r.a) ? r.a : l.a;
      } else if (p == -INFINITY) {
        l.a = (r.a < l.a || r.a != r.a) ? r.a : l.a;
      } else {
        l.a += r.a;
      }
    }
    return l;
  }

  __device__ __forceinline__ float finish(const Acc& s, int64_t n) const {
    if constexpr (Op == ReduceOp::mean) return s.a / static_cast<float>(n);
    if constexpr (Op == ReduceOp::var) return s.b / fmaxf(static_cast<float>(n) - correction, 0.0f);
    if constexpr (Op == ReduceOp::logsumexp) return s.a == -INFINITY || s.a == INFINITY ? s.a : s.a + logf(s.b);
    if constexpr (Op == ReduceOp::norm) {
      if (p == INFINITY || p == -INFINITY || p == 0.0f || p == 1.0f) return s.a;
      if (p == 2.0f) return sqrtf(s.a);
      return powf(s.a, 1.0f / p);
    }
    return s.a;
  }
};

__host__ __device__ constexpr bool is_arg(ReduceOp op) { return op == ReduceOp::argmax || op == ReduceOp::argmin; }

template <ReduceOp Op>
__device__ __forceinline__ void store(const Reducer<Op>& r, const Acc& s, int64_t n, void* out, int64_t j) {
  if constexpr (is_arg(Op)) {
    static_cast<int32_t*>(out)[j] = static_cast<int32_t>(s.i < 0 ? 0 : s.i);
  } else {
    static_cast<__half*>(out)[j] = __float2half_rn(r.finish(s, n));
  }
}

__device__ __forceinline__ Acc shfl(const Acc& s, int o) {
  return {__shfl_xor_sync(0xffffffffu, s.a, o), __shfl_xor_sync(0xffffffffu, s.b, o),
          __shfl_xor_sync(0xffffffffu, s.i, o)};
}

template <ReduceOp Op>
__device__ __forceinline__ Acc block_merge(const Reducer<Op>& r, Acc s) {
  __shared__ Acc warps[32];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) s = r.merge(s, shfl(s, o));
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, count = (blockDim.x + 31) >> 5;
  if (lane == 0) warps[warp] = s;
  __syncthreads();
  if (warp == 0) {
    s = lane < count ? warps[lane] : r.init();
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) s = r.merge(s, shfl(s, o));
  }
  return s;  // valid in thread 0
}

constexpr int kRowUnroll = 4;

// Block (split s, row o) reduces elements [begin, end) of row o; 16-byte loads when `vec`.
template <ReduceOp Op>
__global__ void reduce_rows(Reducer<Op> r, const __half* in, int64_t n, int64_t seg, bool vec, Acc* partial,
                            void* out) {
  const int64_t o = blockIdx.y, s = blockIdx.x;
  const int64_t begin = s * seg, end = min(n, begin + seg);
  const __half* row = in + o * n;
  Acc acc = r.init();
  int64_t tail = begin;
  if (vec) {
    const int64_t nv = (end - begin) / 8;
    const Half8* v = reinterpret_cast<const Half8*>(row + begin);
    int64_t k = threadIdx.x;
    for (; k + (kRowUnroll - 1) * int64_t{blockDim.x} < nv; k += kRowUnroll * int64_t{blockDim.x}) {
      Half8 x[kRowUnroll];
#pragma unroll
      for (int u = 0; u < kRowUnroll; ++u) x[u] = v[k + u * blockDim.x];
#pragma unroll
      for (int u = 0; u < kRowUnroll; ++u) {
#pragma unroll
        for (int j = 0; j < 8; ++j) r.push(acc, __half2float(x[u].h[j]), begin + (k + u * blockDim.x) * 8 + j);
      }
    }
    for (; k < nv; k += blockDim.x) {
      const Half8 x = v[k];
#pragma unroll
      for (int j = 0; j < 8; ++j) r.push(acc, __half2float(x.h[j]), begin + k * 8 + j);
    }
    tail = begin + nv * 8;
  }
  for (int64_t i = tail + threadIdx.x; i < end; i += blockDim.x) r.push(acc, __half2float(row[i]), i);
  acc = block_merge(r, acc);
  if (threadIdx.x != 0) return;
  if (partial) {
    partial[o * gridDim.x + s] = acc;
  } else {
    store(r, acc, n, out, o);
  }
}

// One thread per output (o, i), walking its split of the n axis with stride inner.
template <ReduceOp Op>
__global__ void reduce_cols(Reducer<Op> r, const __half* in, int64_t outer, int64_t n, int64_t inner, int64_t seg,
                            Acc* partial, void* out) {
  const int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (j >= outer * inner) return;
  const int64_t o = j / inner, i = j % inner, s = blockIdx.y;
  const int64_t begin = s * seg, end = min(n, begin + seg);
  const __half* p = in + o * n * inner + i;
  Acc acc = r.init();
  for (int64_t k = begin; k < end; ++k) r.push(acc, __half2float(p[k * inner]), k);
  if (partial) {
    partial[j * gridDim.y + s] = acc;
  } else {
    store(r, acc, n, out, j);
  }
}

constexpr int kColThreads = 32, kColLanes = 8;  // reduce_cols_vec's block: 32 x 8 columns, 8 row lanes

// Columns when inner is a multiple of 8 and the data 16-byte aligned (bias gradients: sums over the rows of
// [tokens, features]): block (32, 8) covers 256 columns and one split of the n axis; thread (x, y) reads its 8
// adjacent columns with one 16-byte load from rows y, y + 8, ..., so each row's 256 columns are one 512-byte
// access; the 8 row lanes' states then merge through shared memory in lane order (deterministic).
template <ReduceOp Op>
__global__ void __launch_bounds__(kColThreads * kColLanes)
    reduce_cols_vec(Reducer<Op> r, const __half* in, int64_t outer, int64_t n, int64_t inner, int64_t seg,
                    Acc* partial, void* out) {
  __shared__ Acc lanes[kColLanes][kColThreads * 8];
  const int64_t groups = inner / 8;
  const int64_t g = blockIdx.x * int64_t{kColThreads} + threadIdx.x;  // an 8-column group over outer * groups
  const bool active = g < outer * groups;
  const int64_t o = g / groups, first = (g % groups) * 8, s = blockIdx.y;
  const int64_t begin = s * seg, end = min(n, begin + seg);
  Acc acc[8];
#pragma unroll
  for (int j = 0; j < 8; ++j) acc[j] = r.init();
  if (active) {
    const __half* p = in + o * n * inner + first;
    // 8 rows' loads in flight per thread (128 bytes; 64 KB per SM at two blocks): with 4, a bias gradient of
    // [8192, 3072] read at ~1.6 TB/s on an H100.
#pragma unroll 8
    for (int64_t k = begin + threadIdx.y; k < end; k += kColLanes) {
      const Half8 x = *reinterpret_cast<const Half8*>(p + k * inner);
#pragma unroll
      for (int j = 0; j < 8; ++j) r.push(acc[j], __half2float(x.h[j]), k);
    }
  }
#pragma unroll
  for (int j = 0; j < 8; ++j) lanes[threadIdx.y][threadIdx.x * 8 + j] = acc[j];
  __syncthreads();
  if (threadIdx.y != 0 || !active) return;
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    for (int l = 1; l < kColLanes; ++l) acc[j] = r.merge(acc[j], lanes[l][threadIdx.x * 8 + j]);
    const int64_t index = o * inner + first + j;
    if (partial) {
      partial[index * gridDim.y + s] = acc[j];
    } else {
      store(r, acc[j], n, out, index);
    }
  }
}

// Sums (and means) of columns, the bias gradients of every linear's backward: as reduce_cols_vec, but with one
// float of state per column and the splits' sums as coalesced rows [split][output] (column_sums.cuh; the Acc layout
// wrote 16 bytes per output a split apart). More splits than reduce_cols_vec: kSumBlocksPerSm blocks per SM.
constexpr int kSumLanes = 8, kSumBlocksPerSm = 4;
__global__ void __launch_bounds__(32 * kSumLanes)
    sum_cols_vec(const __half* in, int64_t outer, int64_t n, int64_t inner, int64_t seg, float* partial,
                 int* tickets, __half* out, float divisor) {
  const int64_t groups = inner / 8;
  const int64_t g0 = blockIdx.x * int64_t{32};  // the block's first 8-column group over outer * groups
  const int64_t g = g0 + threadIdx.x;
  const int64_t o = g / groups, first = (g % groups) * 8, s = blockIdx.y;
  const int64_t begin = s * seg, end = min(n, begin + seg);
  float acc[8] = {};
  if (g < outer * groups) {
    const __half* p = in + o * n * inner + first;
#pragma unroll 8
    for (int64_t k = begin + threadIdx.y; k < end; k += kSumLanes) {
      const Half8 x = *reinterpret_cast<const Half8*>(p + k * inner);
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[j] += __half2float(x.h[j]);
    }
  }
  // ((o * groups + group) * 8 + j == o * inner + column: the outputs in order)
  store_column_sums<kSumLanes>(acc, g0, outer * groups, s, gridDim.y, partial, tickets, out, divisor);
}

// Block (32 outputs, 8 split lanes): each output's `splits` partial sums, lane by lane then the lanes in order.
__global__ void sum_partials(const float* partial, int64_t outputs, int64_t splits, __half* out, float divisor) {
  __shared__ float lanes[8][33];
  const int64_t c = blockIdx.x * int64_t{32} + threadIdx.x;
  float v = 0.0f;
  if (c < outputs)
    for (int64_t s = threadIdx.y; s < splits; s += 8) v += partial[s * outputs + c];
  lanes[threadIdx.y][threadIdx.x] = v;
  __syncthreads();
  if (threadIdx.y != 0 || c >= outputs) return;
  for (int l = 1; l < 8; ++l) v += lanes[l][threadIdx.x];
  out[c] = __float2half_rn(v / divisor);
}

void sum_columns(const __half* src, int64_t outer, int64_t n, int64_t inner, float divisor, __half* out) {
  const int64_t outputs = outer * inner;
  const int64_t col_blocks = (outputs / 8 + 31) / 32;
  const auto [splits, seg] = column_splits(n, col_blocks, kSumBlocksPerSm);
  std::unique_ptr<Scratch> partial;
  if (splits > 1) partial = std::make_unique<Scratch>(sizeof(float) * outputs * splits);
  float* ws = partial ? partial->as<float>() : nullptr;
  int* tickets = ws ? column_tickets(col_blocks) : nullptr;
  sum_cols_vec<<<dim3(static_cast<unsigned>(col_blocks), static_cast<unsigned>(splits)), dim3(32, kSumLanes), 0,
                 stream()>>>(src, outer, n, inner, seg, ws, tickets, out, divisor);
  check_launch("reduce kernel");
  if (ws && !tickets) merge_column_partials(ws, outputs, splits, out, divisor);
}

// One warp per output merges its `splits` partial states in order.
template <ReduceOp Op>
__global__ void reduce_partials(Reducer<Op> r, const Acc* partial, int64_t outputs, int64_t splits, int64_t n,
                                void* out) {
  const int64_t j = blockIdx.x * int64_t{blockDim.x / 32} + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (j >= outputs) return;
  Acc acc = r.init();
  for (int64_t s = lane; s < splits; s += 32) acc = r.merge(acc, partial[j * splits + s]);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) acc = r.merge(acc, shfl(acc, o));
  if (lane == 0) store(r, acc, n, out, j);
}

template <ReduceOp Op>
void run(const Reducer<Op>& r, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) {
  const __half* src = in.data_as<__half>();
  const int64_t outputs = outer * inner;
  const int64_t target_threads = int64_t{sm_count()} * 2048;
  int64_t splits = 1, seg = n;
  const bool cols_vec = inner > 1 && inner % 8 == 0 && aligned16(src);
  if constexpr (Op == ReduceOp::sum || Op == ReduceOp::mean) {
    if (cols_vec) {
      return sum_columns(src, outer, n, inner, Op == ReduceOp::mean ? static_cast<float>(n) : 1.0f,
                         out.data_as<__half>());
    }
  }
  const int64_t col_blocks = (outputs / 8 + kColThreads - 1) / kColThreads;
  if (cols_vec) {
    // About two blocks per SM in all, each split at least 64 rows.
    splits = std::max<int64_t>(1, std::min(int64_t{sm_count()} * 2 / col_blocks, n / 64));
    seg = std::max<int64_t>(1, (n + splits - 1) / splits);
    splits = (n + seg - 1) / seg;
  } else if (inner == 1) {
    const int64_t target_blocks = target_threads / kThreads;
    splits = std::max<int64_t>(1, std::min((target_blocks + outer - 1) / outer, (n + 4095) / 4096));
    seg = (n + splits - 1) / splits;
    seg = (seg + 7) / 8 * 8;
    splits = (n + seg - 1) / seg;
  } else {
    splits = std::max<int64_t>(1, std::min((target_threads + outputs - 1) / outputs, (n + 63) / 64));
    seg = (n + splits - 1) / splits;
    splits = (n + seg - 1) / seg;
  }
  if (n == 0) splits = 1;
  std::unique_ptr<Scratch> partial;
  if (splits > 1) partial = std::make_unique<Scratch>(sizeof(Acc) * outputs * splits);
  Acc* ws = partial ? partial->as<Acc>() : nullptr;
  if (inner == 1) {
    const bool vec = n % 8 == 0 && aligned16(src);
    for (int64_t o0 = 0; o0 < outer; o0 += 65535) {  // grid.y holds at most 65535 rows per launch
      const int64_t rows = std::min<int64_t>(65535, outer - o0);
      reduce_rows<Op><<<dim3(static_cast<unsigned>(splits), static_cast<unsigned>(rows)), kThreads, 0, stream()>>>(
          r, src + o0 * n, n, seg, vec, ws ? ws + o0 * splits : nullptr,
          static_cast<char*>(out.data()) + o0 * static_cast<int64_t>(out.itemsize()));
      check_launch("reduce kernel");
    }
  } else if (cols_vec) {
    reduce_cols_vec<Op><<<dim3(static_cast<unsigned>(col_blocks), static_cast<unsigned>(splits)),
                          dim3(kColThreads, kColLanes), 0, stream()>>>(r, src, outer, n, inner, seg, ws, out.data());
    check_launch("reduce kernel");
  } else {
    reduce_cols<Op><<<dim3(blocks_for(outputs), static_cast<unsigned>(splits)), kThreads, 0, stream()>>>(
        r, src, outer, n, inner, seg, ws, out.data());
    check_launch("reduce kernel");
  }
  if (ws) {
    reduce_partials<Op><<<blocks_for(outputs * 32), kThreads, 0, stream()>>>(r, ws, outputs, splits, n, out.data());
    check_launch("reduce merge kernel");
  }
}

}  // namespace

int* column_tickets(int64_t col_blocks) {
  constexpr int64_t kTickets = 4096;  // column blocks of 256 columns: up to ~1 M columns
  static std::once_flag once[kMaxDevices];
  static int* tickets[kMaxDevices] = {};
  if (col_blocks > kTickets) return nullptr;
  const int index = current_device();
  if (capturing() && tickets[index] == nullptr) return nullptr;  // (a racing first use elsewhere only costs a merge)
  std::call_once(once[index], [index] {
    int* made = nullptr;
    check(cudaMalloc(&made, sizeof(int) * kTickets), "cudaMalloc (column-sum tickets)");
    check(cudaMemset(made, 0, sizeof(int) * kTickets), "cudaMemset (column-sum tickets)");
    tickets[index] = made;
  });
  return tickets[index];
}

void merge_column_partials(const float* partial, int64_t outputs, int64_t splits, __half* out, float divisor) {
  sum_partials<<<static_cast<unsigned>((outputs + 31) / 32), dim3(32, 8), 0, stream()>>>(partial, outputs, splits, out,
                                                                                           divisor);
  check_launch("reduce merge kernel");
}

void CudaBackend::reduce(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out,
                         const ReduceParams& params) {
  const float p = static_cast<float>(params.p), corr = static_cast<float>(params.correction);
  switch (op) {
#define TL_CASE(name) \
  case ReduceOp::name: return run(Reducer<ReduceOp::name>{p, corr}, in, outer, n, inner, out);
    TL_CASE(sum) TL_CASE(mean) TL_CASE(prod) TL_CASE(max) TL_CASE(min) TL_CASE(argmax) TL_CASE(argmin) TL_CASE(var)
    TL_CASE(logsumexp) TL_CASE(norm)
#undef TL_CASE
  }
}

}  // namespace tensorlogic::cuda
