// GEMM through cuBLASLt: f16 operands, f32 accumulation (CUBLAS_COMPUTE_32F), f16 result rounded once.
// Row-major out[M, N] = a[M, K] @ b[K, N] is computed as the column-major product out^T = b^T a^T, so
// transposed views map onto cuBLASLt's transpose flags without copies. Bias, residual (as C with
// beta = 1) and relu/gelu_tanh run in cuBLASLt's fused epilogue; other forms go through an f32 result
// and the epilogue kernel of gemm_epilogue.cu. A linear layer's weight gradient also gives its bias
// gradient in the epilogue (BGRADB: linear_weight_bias_grad below). With TL_CUDA_GEMM_TUNE=1 each problem
// shape's algorithm is chosen by timing (Gemm::tune) instead of taken from the heuristic.
#include <cublasLt.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda_backend.h"
#include "gemm_epilogue.h"
#include "runtime.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cuda {
namespace {

void check_lt(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw DeviceError(std::string("cuda: ") + what + " failed (cuBLAS status " + std::to_string(static_cast<int>(status)) + ")");
  }
}

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

// A matrix operand as cuBLASLt sees it (column-major), standing for the transpose of a row-major view.
struct LtOperand {
  cublasOperation_t op = CUBLAS_OP_N;
  uint64_t rows = 0, cols = 0;
  int64_t ld = 0;
  int64_t batch_stride = 0;
  const void* ptr = nullptr;
};

// Describes X^T for the row-major logical matrix X [R, C] with strides (sr, sc); false when neither
// axis is unit-stride (the caller packs such a view first).
bool describe_transpose(int64_t r, int64_t c, int64_t sr, int64_t sc, LtOperand* out) {
  const int64_t ld_rows = r == 1 ? c : sr;  // rows of X as columns of a column-major [C, R]
  if ((sc == 1 || c == 1) && ld_rows >= std::max<int64_t>(c, 1)) {
    *out = {CUBLAS_OP_N, static_cast<uint64_t>(c), static_cast<uint64_t>(r), ld_rows, 0, nullptr};
    return true;
  }
  const int64_t ld_cols = c == 1 ? r : sc;
  if ((sr == 1 || r == 1) && ld_cols >= std::max<int64_t>(r, 1)) {
    *out = {CUBLAS_OP_T, static_cast<uint64_t>(r), static_cast<uint64_t>(c), ld_cols, 0, nullptr};
    return true;
  }
  return false;
}

uint32_t alignment_of(const void* p) {
  const uintptr_t v = reinterpret_cast<uintptr_t>(p);
  uint32_t a = 256;
  while (a > 2 && (v % a) != 0) a >>= 1;
  return a;
}

using Key = std::array<int64_t, 24>;
struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = 1469598103934665603ull;
    for (int64_t v : k) h = (h ^ static_cast<size_t>(v)) * 1099511628211ull;
    return h;
  }
};

// Descriptors and the chosen algorithm of one problem shape, created once and reused.
struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  size_t workspace = 0;
  float waves = 0;  // the heuristic's wavesCount: how fully the algorithm occupies the GPU (1 = one full wave)
  bool found = false;
  // The heuristic's algorithms still to be timed (TL_CUDA_GEMM_TUNE=1, Gemm::tune); empty once settled.
  std::vector<cublasLtMatmulHeuristicResult_t> candidates;
};

// TL_CUDA_GEMM_TUNE=1: time the heuristic's first kTuneCandidates algorithms of each problem shape at its first
// run and keep the fastest, as PyTorch's TunableOp does (also off by default). The heuristic does not time
// anything, and on GPT-2's weight-gradient shapes its first choice is not always the fastest. Costs a host
// wait and ~100 products per new shape; a process's bits then depend on its timings (another algorithm can
// sum in another order), so it stays opt-in. Read once per shape, when its plan is built.
constexpr int kTuneCandidates = 16;
constexpr int kTuneRuns = 5;

// =verbose also writes each shape's timings to stderr (what benchmarks/results notes quote).
enum class Tuning { off, on, verbose };

Tuning tuning_wanted() {
  const char* v = std::getenv("TL_CUDA_GEMM_TUNE");
  if (v != nullptr && std::strcmp(v, "1") == 0) return Tuning::on;
  if (v != nullptr && std::strcmp(v, "verbose") == 0) return Tuning::verbose;
  return Tuning::off;
}

class Gemm {
 public:
  // Made at a GPU's first product, which may come inside a CUDA graph's capture: the workspace's allocation is
  // allowed there in relaxed capture mode (it is no stream work).
  Gemm() {
    check_lt(cublasLtCreate(&handle_), "cublasLtCreate");
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    cudaThreadExchangeStreamCaptureMode(&mode);
    const cudaError_t made = cudaMalloc(&workspace_, kWorkspaceBytes);
    cudaThreadExchangeStreamCaptureMode(&mode);
    check(made, "cudaMalloc (cuBLASLt workspace)");
  }

  // D = epilogue(op(A) op(B) + beta C + bias); returns false when cuBLASLt offers no algorithm. `bias` is the
  // epilogue's vector: read by the BIAS forms, written by BGRADA/BGRADB (the bias gradient).
  bool run(const LtOperand& a, const LtOperand& b, int64_t batch, cudaDataType_t d_type, void* d, const void* c,
           const void* bias, cublasLtEpilogue_t epilogue) {
    std::lock_guard<std::mutex> lock(mutex_);
    Plan& plan = plan_for(a, b, batch, d_type, d, c, bias, epilogue);
    if (!plan.found) return false;
    if (!plan.candidates.empty() && !capturing()) tune(plan, a, b, batch, d_type, c, bias);  // a capture may not wait
    if (bias) {
      check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)),
               "cublasLtMatmulDescSetAttribute (bias)");
    }
    const float alpha = 1.0f, beta = c ? 1.0f : 0.0f;
    check_lt(cublasLtMatmul(handle_, plan.desc, &alpha, a.ptr, plan.a, b.ptr, plan.b, &beta, c ? c : d, plan.c, d,
                            plan.d, &plan.algo, workspace_, plan.workspace, stream()),
             "cublasLtMatmul");
    return true;
  }

  // The wavesCount of the algorithm run() would choose for the same problem; 0 where cuBLASLt has none.
  float waves(const LtOperand& a, const LtOperand& b, int64_t batch, cudaDataType_t d_type, const void* d,
              const void* c, const void* bias, cublasLtEpilogue_t epilogue) {
    std::lock_guard<std::mutex> lock(mutex_);
    const Plan& plan = plan_for(a, b, batch, d_type, d, c, bias, epilogue);
    return plan.found ? plan.waves : 0.0f;
  }

 private:
  // The plan of a problem, built at its first use (mutex_ held).
  Plan& plan_for(const LtOperand& a, const LtOperand& b, int64_t batch, cudaDataType_t d_type, const void* d,
                 const void* c, const void* bias, cublasLtEpilogue_t epilogue) {
    const uint64_t m = a.op == CUBLAS_OP_N ? a.rows : a.cols;
    const uint64_t n = b.op == CUBLAS_OP_N ? b.cols : b.rows;
    const Key key{static_cast<int64_t>(a.op), static_cast<int64_t>(a.rows), static_cast<int64_t>(a.cols), a.ld,
                  a.batch_stride, static_cast<int64_t>(b.op), static_cast<int64_t>(b.rows),
                  static_cast<int64_t>(b.cols), b.ld, b.batch_stride, batch, static_cast<int64_t>(d_type),
                  c != nullptr, bias != nullptr, static_cast<int64_t>(epilogue), alignment_of(a.ptr),
                  alignment_of(b.ptr), alignment_of(d), c ? alignment_of(c) : 0, bias ? alignment_of(bias) : 0,
                  0, 0, 0, 0};
    Plan& plan = plans_[key];
    if (plan.desc == nullptr) build(plan, a, b, m, n, batch, d_type, c, d, bias, epilogue);
    return plan;
  }

  void build(Plan& plan, const LtOperand& a, const LtOperand& b, uint64_t m, uint64_t n, int64_t batch,
             cudaDataType_t d_type, const void* c, const void* d, const void* bias, cublasLtEpilogue_t epilogue) {
    check_lt(cublasLtMatmulDescCreate(&plan.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
    check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &a.op, sizeof(a.op)), "transa");
    check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &b.op, sizeof(b.op)), "transb");
    check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)),
             "epilogue");
    if (bias) {
      check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)),
               "bias pointer");
    }
    auto layout = [&](cublasLtMatrixLayout_t* l, cudaDataType_t type, uint64_t rows, uint64_t cols, int64_t ld,
                      int64_t stride) {
      check_lt(cublasLtMatrixLayoutCreate(l, type, rows, cols, ld), "cublasLtMatrixLayoutCreate");
      if (batch > 1) {
        const int32_t count = static_cast<int32_t>(batch);
        check_lt(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)),
                 "batch count");
        check_lt(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                                  sizeof(stride)),
                 "batch stride");
      }
    };
    layout(&plan.a, CUDA_R_16F, a.rows, a.cols, a.ld, a.batch_stride);
    layout(&plan.b, CUDA_R_16F, b.rows, b.cols, b.ld, b.batch_stride);
    const int64_t mn = static_cast<int64_t>(m * n);
    layout(&plan.c, d_type, m, n, static_cast<int64_t>(m), mn);
    layout(&plan.d, d_type, m, n, static_cast<int64_t>(m), mn);

    cublasLtMatmulPreference_t pref = nullptr;
    check_lt(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
    const uint64_t ws = kWorkspaceBytes;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws));
    const uint32_t align_a = alignment_of(a.ptr), align_b = alignment_of(b.ptr), align_d = alignment_of(d);
    const uint32_t align_c = c ? alignment_of(c) : align_d;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a, sizeof(align_a));
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b, sizeof(align_b));
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_c, sizeof(align_c));
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_d, sizeof(align_d));
    const bool tune = tuning_wanted() != Tuning::off;
    std::vector<cublasLtMatmulHeuristicResult_t> results(tune ? kTuneCandidates : 1);
    int count = 0;
    const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
        handle_, plan.desc, plan.a, plan.b, plan.c, plan.d, pref, static_cast<int>(results.size()), results.data(),
        &count);
    cublasLtMatmulPreferenceDestroy(pref);
    if (status == CUBLAS_STATUS_SUCCESS && count > 0) {
      take(plan, results[0]);
      plan.found = true;
      results.resize(static_cast<size_t>(count));
      if (tune && count > 1) {
        plan.candidates = std::move(results);
      }
    }
  }

  static cublasLtEpilogue_t epilogue_of(const Plan& plan) {
    cublasLtEpilogue_t e = CUBLASLT_EPILOGUE_DEFAULT;
    size_t written = 0;
    cublasLtMatmulDescGetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &e, sizeof(e), &written);
    return e;
  }

  static void take(Plan& plan, const cublasLtMatmulHeuristicResult_t& result) {
    plan.algo = result.algo;
    plan.workspace = result.workspaceSize;
    plan.waves = result.wavesCount;
  }

  // Times each candidate algorithm on the call's own operands, into a scratch result (so that an accumulation
  // into C is not repeated and D is written only by the real run after), and keeps the fastest; the heuristic's
  // first stays unless another is at least 3% faster (timing noise must not swap near-equal algorithms). A bias
  // gradient (BGRAD epilogues) is written by every run alike and overwritten by the real one.
  void tune(Plan& plan, const LtOperand& a, const LtOperand& b, int64_t batch, cudaDataType_t d_type,
            const void* c, const void* bias) {
    const std::vector<cublasLtMatmulHeuristicResult_t> results = std::move(plan.candidates);
    plan.candidates.clear();  // (a moved-from vector is valid but unspecified)
    if (bias) {
      check_lt(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)),
               "cublasLtMatmulDescSetAttribute (bias)");
    }
    const uint64_t m = a.op == CUBLAS_OP_N ? a.rows : a.cols;
    const uint64_t n = b.op == CUBLAS_OP_N ? b.cols : b.rows;
    const size_t item = d_type == CUDA_R_32F ? 4 : 2;
    Scratch out(item * m * n * static_cast<size_t>(std::max<int64_t>(batch, 1)));
    const float alpha = 1.0f, beta = c ? 1.0f : 0.0f;
    auto product = [&](const cublasLtMatmulHeuristicResult_t& r) {
      return cublasLtMatmul(handle_, plan.desc, &alpha, a.ptr, plan.a, b.ptr, plan.b, &beta, c ? c : out.as<void>(),
                            plan.c, out.as<void>(), plan.d, &r.algo, workspace_, r.workspaceSize, stream());
    };
    cudaEvent_t start_event = nullptr, stop_event = nullptr;
    check(cudaEventCreate(&start_event), "cudaEventCreate");
    const std::unique_ptr<CUevent_st, decltype(&cudaEventDestroy)> start(start_event, cudaEventDestroy);
    check(cudaEventCreate(&stop_event), "cudaEventCreate");
    const std::unique_ptr<CUevent_st, decltype(&cudaEventDestroy)> stop(stop_event, cudaEventDestroy);
    float best_ms = INFINITY, first_ms = NAN;  // the best so far (the heuristic's first, once timed)
    size_t best = 0;
    for (size_t i = 0; i < results.size(); ++i) {
      if (product(results[i]) != CUBLAS_STATUS_SUCCESS) continue;  // warm-up; an algorithm that refuses is skipped
      check(cudaEventRecord(start.get(), stream()), "cudaEventRecord");
      for (int r = 0; r < kTuneRuns; ++r) product(results[i]);
      check(cudaEventRecord(stop.get(), stream()), "cudaEventRecord");
      check(cudaEventSynchronize(stop.get()), "cudaEventSynchronize");
      float ms = 0.0f;
      check(cudaEventElapsedTime(&ms, start.get(), stop.get()), "cudaEventElapsedTime");
      if (i == 0 || ms < 0.97f * best_ms) {
        best_ms = ms;
        best = i;
      }
      if (i == 0) first_ms = ms;
    }
    if (tuning_wanted() == Tuning::verbose) {
      std::fprintf(stderr, "gemm tune m=%llu n=%llu k=%llu batch=%lld epilogue=%d: heuristic's first %.4f ms, chosen #%zu of %zu %.4f ms\n",
                   static_cast<unsigned long long>(m), static_cast<unsigned long long>(n),
                   static_cast<unsigned long long>(a.op == CUBLAS_OP_N ? a.cols : a.rows), static_cast<long long>(batch),
                   static_cast<int>(epilogue_of(plan)), first_ms / kTuneRuns, best, results.size(), best_ms / kTuneRuns);
    }
    take(plan, results[best]);
  }

  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  std::mutex mutex_;
  std::unordered_map<Key, Plan, KeyHash> plans_;
};

// One per GPU (the workspace is device memory; plans are chosen for that GPU), made on first use.
Gemm& gemm_engine() {
  static std::once_flag once[kMaxDevices];
  static Gemm* engines[kMaxDevices] = {};
  const int index = current_device();
  std::call_once(once[index], [index] { engines[index] = new Gemm(); });
  return *engines[index];
}

// Lt operand for a [B, R, C] view (batch stride 0 when broadcast or B == 1).
bool describe(const Array& x, LtOperand* op) {
  const int64_t r = x.shape()[1], c = x.shape()[2];
  if (!describe_transpose(r, c, x.strides()[1], x.strides()[2], op)) return false;
  op->batch_stride = x.shape()[0] == 1 ? 0 : x.strides()[0];
  op->ptr = x.data();
  return true;
}

// True when the bias is one [N] vector broadcast over batch and rows (cuBLASLt's bias epilogue).
bool bias_is_vector(const Array& bias) {
  const int nd = bias.ndim();
  for (int d = 0; d < nd - 1; ++d) {
    if (bias.shape()[d] != 1 && bias.strides()[d] != 0) return false;
  }
  return nd == 0 || bias.shape()[nd - 1] == 1 || bias.strides()[nd - 1] == 1;
}

// When linear_weight_bias_grad sums the bias gradient in the epilogue: TL_CUDA_BGRAD=1 wherever cuBLASLt has an
// algorithm, =auto where that keeps the GPU about as busy as the plain GEMM (see there), else never: on an H100
// (cuBLASLt of CUDA 13, 2026-12-06) the epilogue's algorithms are sm90_xmma kernels where the plain dW GEMMs are
// nvjet ones, and GPT-2's dW + db took 55 us for g [8192, 2304] (plain 42 + sum ~21) but 92 us for g [8192, 3072]
// (plain 54 + sum ~25): no net gain over a step (benchmarks/results/gpt_step_notes.md). Read at each call (a few
// hundred ns beside a GEMM), so that a test or benchmark can switch it within one process.
enum class BgradUse { never, always, where_busy };

BgradUse bgrad_use() {
  const char* v = std::getenv("TL_CUDA_BGRAD");
  if (v != nullptr && std::strcmp(v, "1") == 0) return BgradUse::always;
  if (v != nullptr && std::strcmp(v, "auto") == 0) return BgradUse::where_busy;
  return BgradUse::never;
}

}  // namespace

void CudaBackend::gemm(const Array& a_in, const Array& b_in, const Array& out, const GemmEpilogue& epilogue) {
  const int64_t batch = out.shape()[0], m = out.shape()[1], n = out.shape()[2], k = a_in.shape()[2];
  if (out.numel() == 0) return;
  if (k == 0) return gemm_epilogue(nullptr, batch, m, n, epilogue, out);

  LtOperand lt_a, lt_b;  // cuBLASLt's A is our b, its B our a (see the file comment)
  Array a = a_in, b = b_in;
  if (!describe(b, &lt_a)) {
    b = contiguous(b);
    describe(b, &lt_a);
  }
  if (!describe(a, &lt_b)) {
    a = contiguous(a);
    describe(a, &lt_b);
  }

  const Activation act = epilogue.activation;
  const bool fused_act = act == Activation::none || act == Activation::relu || act == Activation::gelu_tanh;
  const bool fused_bias = epilogue.bias == nullptr || bias_is_vector(*epilogue.bias);
  const bool fused_residual = epilogue.residual == nullptr || epilogue.residual->is_contiguous();
  if (fused_act && fused_bias && fused_residual) {
    const bool has_bias = epilogue.bias != nullptr;
    cublasLtEpilogue_t e = CUBLASLT_EPILOGUE_DEFAULT;
    if (act == Activation::none) e = has_bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    if (act == Activation::relu) e = has_bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
    if (act == Activation::gelu_tanh) e = has_bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
    const void* bias = has_bias ? epilogue.bias->data() : nullptr;
    const void* residual = epilogue.residual ? epilogue.residual->data() : nullptr;
    if (gemm_engine().run(lt_a, lt_b, batch, CUDA_R_16F, out.data(), residual, bias, e)) return;
  }
  // General form: f32 product, then one kernel adds bias and residual, applies the activation, rounds.
  Scratch acc(sizeof(float) * static_cast<size_t>(batch * m * n));
  if (!gemm_engine().run(lt_a, lt_b, batch, CUDA_R_32F, acc.as<void>(), nullptr, nullptr, CUBLASLT_EPILOGUE_DEFAULT)) {
    throw DeviceError("cuda: gemm: cuBLASLt has no algorithm for " + shape_str(a_in.shape()) + " @ " +
                      shape_str(b_in.shape()));
  }
  gemm_epilogue(acc.as<float>(), batch, m, n, epilogue, out);
}

// dw [N, K] = grad^T @ x as gemm computes it (cuBLASLt's A is x, its B is grad^T's transpose: grad as a
// column-major [N, M] matrix, op(B) = [M, N] = [k, n]), with cuBLASLt's BGRADB epilogue: the bias gradient
// is B summed over the GEMM's k dimension, the M rows of grad, one value per column of D: db [N]. The sum
// runs in the compute type (f32) as the tiles of grad pass through the GEMM, and is rounded once to D's type
// (f16, the bias vector's type by default). Where cuBLASLt has no algorithm for the epilogue with these
// layouts and alignments (its heuristic says so), nothing is launched and the core composes gemm + sum.
// dW's output is small beside its k (GPT-2's [768, 768] from 8192 rows: 18 to 36 output tiles for 132 SMs), so
// the plain GEMM fills the GPU by splitting k; should the epilogue's algorithm not (cuBLASLt's wavesCount for it,
// capped at one wave, under 3/4 of the plain one's), the GEMM would lose more than the column sum (~15 us) saves,
// and the core composes instead (with TL_CUDA_BGRAD=auto; the default composes always: see above).
bool CudaBackend::linear_weight_bias_grad(const Array& grad, const Array& x, const Array& dw, const Array& db) {
  const BgradUse use = bgrad_use();
  if (use == BgradUse::never) return false;
  const int64_t m = grad.shape()[0], n = grad.shape()[1], k = x.shape()[1];
  LtOperand lt_a, lt_b;
  if (!describe_transpose(m, k, x.strides()[0], x.strides()[1], &lt_a)) return false;
  if (!describe_transpose(n, m, grad.strides()[1], grad.strides()[0], &lt_b)) return false;
  lt_a.ptr = x.data();
  lt_b.ptr = grad.data();
  Gemm& engine = gemm_engine();
  if (use == BgradUse::where_busy) {
    const float fused =
        engine.waves(lt_a, lt_b, 1, CUDA_R_16F, dw.data(), nullptr, db.data(), CUBLASLT_EPILOGUE_BGRADB);
    const float plain =
        engine.waves(lt_a, lt_b, 1, CUDA_R_16F, dw.data(), nullptr, nullptr, CUBLASLT_EPILOGUE_DEFAULT);
    if (std::min(fused, 1.0f) < 0.75f * std::min(plain, 1.0f)) return false;
  }
  return engine.run(lt_a, lt_b, 1, CUDA_R_16F, dw.data(), nullptr, db.data(), CUBLASLT_EPILOGUE_BGRADB);
}

}  // namespace tensorlogic::cuda
