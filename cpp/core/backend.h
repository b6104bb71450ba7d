// The interface every backend implements: kernel families, not one function per op. The core checks
// arguments and shapes once before calling; backends trust their inputs.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../kernels/scaled_step.h"
#include "tensorlogic/array.h"
#include "tensorlogic/memory.h"
#include "tensorlogic/ops.h"
#include "tensorlogic/optim.h"

namespace tensorlogic {

// A binary operand: an array already broadcast (expanded) to the output shape, or a scalar.
struct Operand {
  const Array* array = nullptr;
  double scalar = 0.0;
};

struct GemmEpilogue {
  const Array* bias = nullptr;      // broadcast over rows: [N] or expanded to [B, M, N]
  const Array* residual = nullptr;  // [B, M, N] view, added before the activation
  Activation activation = Activation::none;
};

enum class RandomKind : uint8_t { uniform, normal, integer };

// One parameter's arrays of a fused optimizer update (Backend::optimizer_steps): the f16 parameter, its
// f16 gradient and its state slots, all contiguous and on one device.
// `step`, when defined, is the parameter's count of updates done (int32, one element, on its device), which
// the update reads in place of OptimizerParams::step and advances unless the step is skipped.
struct OptimizerTensors {
  Array param, grad;
  std::vector<Array> state;
  Array step;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceType type() const = 0;
  // The cache, queue and synchronize of the device selected on this thread (see select).
  virtual BufferCache& cache() = 0;
  virtual void synchronize() {}

  // Several devices of one type (cuda:0, cuda:1, ...) share one backend object. backend_for selects the
  // device of each call on the calling thread before the core runs it, so kernels need no device argument.
  virtual int device_count() const { return 1; }
  virtual void select(int /*index*/) {}
  virtual DeviceProperties properties();
  // A marker in the selected device's queue of work (the core wraps it as tensorlogic::Event).
  virtual std::unique_ptr<DeviceEvent> create_event(bool timing);
  // A graph of the selected device's queued work (tensorlogic::Graph); DeviceError where there is none.
  virtual std::unique_ptr<DeviceGraph> create_graph();
  // The selected device's queue as other libraries name it (cudaStream_t on CUDA), so that they can enqueue
  // work in order with ours (NCCL's collectives); 0 where work runs when its call returns.
  virtual uintptr_t stream_handle() { return 0; }
  // How many times the host has waited to read device data of this backend (all its devices, this process):
  // 0 where data is the host's own. Tests count the waits of a training step with it.
  virtual int64_t host_reads() const { return 0; }
  // dst = src where both are contiguous, on two devices of this backend's type (the selected one is dst's).
  virtual void copy_peer(const Array& src, const Array& dst);

  // Host transfers: host buffers are contiguous in `a`'s logical order; `a` may be strided.
  virtual void copy_from_host(const void* src, const Array& dst) = 0;
  virtual void copy_to_host(const Array& src, void* dst) = 0;
  // Same shape, any strides on both sides; converts between f16 and int32.
  virtual void copy(const Array& src, const Array& dst) = 0;
  virtual void fill(const Array& dst, double value) = 0;

  // Elementwise: inputs are views with the output's shape (broadcast already applied); out may be strided.
  virtual void unary(UnaryOp op, const Array& in, const Array& out, const UnaryParams& params) = 0;
  virtual void binary(BinaryOp op, const Operand& a, const Operand& b, const Array& out) = 0;
  virtual void ternary(TernaryOp op, const Array& a, const Array& b, const Array& c, const Array& out) = 0;

  // `in` is contiguous and read as [outer, n, inner]; `out` is contiguous [outer, inner].
  virtual void reduce(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out,
                      const ReduceParams& params) = 0;
  // Exact reductions of bool, int32 or int64 data (contiguous [outer, n, inner]) into int64 out [outer,
  // inner]: sum and prod wrap like PyTorch's int64, max/min are values, argmax/argmin the first index of
  // the extreme along n. A backend without this family raises DeviceError.
  virtual void reduce_int(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out);
  // The ordering families (cpp/core/ordering.cpp), on every backend.
  // out [rows, n] (int64) = the stable order of each contiguous row of in (f16 with NaN largest, int32 or
  // int64), ascending or descending (equal keys keep their order either way).
  virtual void argsort(const Array& in, int64_t rows, int64_t n, bool descending, const Array& out) = 0;
  // Inclusive scans along each contiguous row [rows, n]: f16 in f32 (each output rounded once) or int64
  // (wrapping); out has in's dtype.
  virtual void scan(ScanOp op, const Array& in, int64_t rows, int64_t n, const Array& out) = 0;
  // Sorted-array kernels of the language's tuple engine, in the ordering families, on contiguous data the
  // core checked. out [n] = for each probe[i] (int64 [n]) the first position of sorted (int64 [m],
  // ascending) where it could be inserted keeping the order, after equal keys with `right` (numpy's and
  // PyTorch's searchsorted).
  virtual void searchsorted(const Array& sorted, const Array& probe, bool right, const Array& out) = 0;
  // out [n, w] = row index[i] of src [m, w] (any dtype; int64 indices in [0, m)), read on the device.
  virtual void take_rows(const Array& src, const Array& index, const Array& out) = 0;
  // out [0, count) = the positions of the true entries of mask (bool [n]) in ascending order, out [n]
  // int64; returns count.
  virtual int64_t flatnonzero(const Array& mask, const Array& out) = 0;
  // softmax family over the middle axis of a contiguous [outer, n, inner] array.
  virtual void rows(RowOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) = 0;
  // layer_norm (bias/mean used) or rms_norm over the last n elements of contiguous [rows, n] data.
  virtual void norm(bool rms, const Array& in, int64_t rows, int64_t n, const Array* weight, const Array* bias,
                    double eps, const Array& out) = 0;
  // Softmax cross-entropy per row of contiguous [rows, n] f16 logits against contiguous int32 targets [rows],
  // each in [0, n) or equal to ignore_index (checked by the core): out[r] = logsumexp(x_r) - (1 - smoothing)
  // x_r[t_r] - smoothing / n * sum(x_r), in f32 and rounded once; 0 where t_r == ignore_index. Where row_lse
  // is given (int32 [rows] holding f32 bits) a backend with a fused backward also writes each counted row's
  // logsumexp(x_r) there, for that backward, and returns true; false where it kept none. A backend without
  // this family raises DeviceError.
  virtual bool cross_entropy(const Array& logits, const Array& target, int64_t rows, int64_t n,
                             int64_t ignore_index, float label_smoothing, const Array& out, const Array* row_lse);
  // Its gradient: out [rows, n] (contiguous) = (softmax(x_r) - (1 - s) onehot(t_r) - s / n) * grad[r], 0 on
  // ignored rows; grad is contiguous f16 [rows]; row_lse, where given, the forward's (so the rows are read
  // once, not twice). Returns false, having written nothing, where the backend has no fused kernel (the caller
  // composes it).
  virtual bool cross_entropy_backward(const Array& /*logits*/, const Array& /*target*/, const Array& /*grad*/,
                                      const Array* /*row_lse*/, int64_t /*rows*/, int64_t /*n*/,
                                      int64_t /*ignore_index*/, float /*label_smoothing*/, const Array& /*out*/) {
    return false;
  }
  // Gradients of `norm` from contiguous x and grad [rows, n]: dx [rows, n] (added to dx's values in f32 when
  // `accumulate`), and the column sums dweight = sum_r grad * xhat and dbias = sum_r grad [n] where not null, all
  // in f32 and rounded once. Returns false, having written nothing, where the backend has no fused kernel.
  virtual bool norm_backward(bool /*rms*/, const Array& /*x*/, const Array& /*grad*/, const Array* /*weight*/,
                             int64_t /*rows*/, int64_t /*n*/, double /*eps*/, const Array& /*dx*/, bool /*accumulate*/,
                             const Array* /*dweight*/, const Array* /*dbias*/) {
    return false;
  }

  // An activation's backward dx = op(grad, x) (op: gelu_backward, gelu_tanh_backward, silu_backward or
  // tanh_backward) over contiguous f16 [rows, n], with the column sums of dx as rounded (over the rows, in f32,
  // rounded once) into sums [n]: the bias gradient of the linear layer before the activation in the same pass.
  // Returns false, having written nothing, where the backend has no fused kernel for these operands.
  virtual bool activation_backward_columns(BinaryOp /*op*/, const Array& /*grad*/, const Array& /*x*/,
                                           int64_t /*rows*/, int64_t /*n*/, const Array& /*dx*/,
                                           const Array& /*sums*/) {
    return false;
  }

  // One recurrent cell step (tensorlogic::recurrent_cell) over N rows of contiguous f16 arrays: gi, gh
  // [N, cell_gates(kind) * H], h, c, h_out, c_out [N, H] (c and c_out: LSTM only, else null). Returns false,
  // having written nothing, where the backend has no such kernel.
  virtual bool recurrent_cell(CellKind /*kind*/, const Array& /*gi*/, const Array& /*gh*/, const Array& /*h*/,
                              const Array* /*c*/, const Array& /*h_out*/, const Array* /*c_out*/) {
    return false;
  }
  // Its gradients (tensorlogic::recurrent_cell_backward) from dh (and dc, LSTM; may be null there: zeros)
  // into dgi, and dgh, dh_prev (GRU) or dc_prev (LSTM) where not null, all contiguous as above.
  struct CellGradArrays {
    const Array* dgh;
    const Array* dh_prev;
    const Array* dc_prev;
  };
  virtual bool recurrent_cell_backward(CellKind /*kind*/, const Array& /*gi*/, const Array& /*gh*/,
                                       const Array& /*h*/, const Array* /*c*/, const Array& /*dh*/,
                                       const Array* /*dc*/, const Array& /*dgi*/, const CellGradArrays& /*out*/) {
    return false;
  }

  // out[b] = a[b] @ b[b] with f32 accumulation, then the epilogue, rounded once. a: [B, M, K] and
  // b: [B, K, N] views whose two inner axes may be in either order (transposes need no copy); out is
  // contiguous [B, M, N].
  virtual void gemm(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) = 0;
  // A linear layer's weight and bias gradients from one read of grad: dw [N, K] (contiguous) = grad^T @ x with
  // f32 accumulation, and db [N] (contiguous) = grad's column sums (over its M rows) in f32, each rounded once,
  // for grad [M, N] and x [M, K] (views, any strides; M, N, K > 0). Returns false, having written nothing, where
  // the backend has no fused kernel for these operands; the core then runs gemm and the sum reduction, which
  // give the same precision. CUDA can sum db in the GEMM's epilogue (cuBLASLt's BGRADB; opt-in, TL_CUDA_BGRAD in
  // cuda/gemm.cpp, as it measured no faster on an H100).
  virtual bool linear_weight_bias_grad(const Array& /*grad*/, const Array& /*x*/, const Array& /*dw*/,
                                       const Array& /*db*/) {
    return false;
  }
  // The batch axes gemm takes: 1 ([B, M, K] as above) or 2 ([B0, B1, M, K], so that batch axes whose strides do
  // not merge, as attention's heads split from one projection, come in one call rather than one per B0).
  virtual int gemm_batch_axes() const { return 1; }

  // Linear layers whose weights W [n, k] stay in a GGUF block format (op_table.def's TL_QUANT): `blocks`
  // [n, words] holds row j of W as k / quant_block_elems(type) consecutive blocks from the start of its row
  // (int32 words carrying the bytes, rows padded to whole words). out [1, m, n] (contiguous) = x [1, m, k]
  // (contiguous) @ W^T, then the epilogue as in gemm, in f32 and rounded once. A backend without this
  // family raises DeviceError.
  virtual void quantized_gemm(QuantType type, const Array& x, const Array& blocks, const Array& out,
                              const GemmEpilogue& epilogue);
  // out [n, k] (contiguous f16) = W of `blocks` as above, each weight computed in f32 and rounded once.
  virtual void dequantize(QuantType type, const Array& blocks, const Array& out);

  // Indexing: gather, scatter_add, index_select, embedding, advanced indexing and pad all reduce to
  // moving blocks at element offsets that the core computed and range-checked on the host. A block is
  // the strided view `src` (or `dst`) moved to offsets[b] (elements from its data pointer).
  // out [n, *R] (contiguous) [b] = block of src (shape R) at offsets[b].
  virtual void index_gather(const Array& src, const std::vector<int64_t>& offsets, const Array& out) = 0;
  // block of dst (shape R) at offsets[b] = values[b] (or += with accumulate: repeated offsets add up, float16
  // sums in f32 rounded once); values is contiguous [n, *R] with dst's dtype. Without accumulate the last
  // write (largest b) wins.
  virtual void index_scatter(const Array& values, const std::vector<int64_t>& offsets, const Array& dst,
                             bool accumulate) = 0;
  // The whole conv2d of x [N, C, H, W] with w [O, C/groups, kh, kw] and bias [O] (or null), all contiguous
  // and checked by the core, into out [N, O, out_h, out_w] (contiguous). Returns false to let the core
  // lower it to im2col + GEMM, which every backend but `ane` (a Core ML model per shape) wants.
  virtual bool conv2d(const Array& x, const Array& w, const Array* bias, const Conv2dArgs& args, int64_t groups,
                      const Array& out) {
    return false;
  }
  // Gradients of conv2d (operands as in `conv2d`, grad [N, O, out_h, out_w] contiguous) into the fresh
  // contiguous dx, dw and db of the inputs' shapes; a null one is not wanted. Returns false, having
  // written nothing, where the backend has no fused kernel; the caller then composes the backward.
  virtual bool conv2d_backward(const Array& /*x*/, const Array& /*w*/, const Array& /*grad*/,
                               const Conv2dArgs& /*args*/, int64_t /*groups*/, const Array* /*dx*/,
                               const Array* /*dw*/, const Array* /*db*/) {
    return false;
  }
  // out [N, C*kh*kw, L] from x [N, C, H, W] (contiguous), zero padding.
  virtual void im2col(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                      int64_t out_w, const Array& out) = 0;
  // out [N, C, H, W] (zeroed by the core) += cols [N, C*kh*kw, L].
  virtual void col2im(const Array& cols, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                      int64_t out_w, const Array& out) = 0;
  // max or average pooling of x [N, C, H, W] (contiguous) into out [N, C, out_h, out_w]; padded cells
  // never win a max; an average divides by the window clipped to the padded input (count_include_pad)
  // or by the number of real cells (PyTorch's rules).
  virtual void pool2d(bool max, const Array& x, const int64_t kernel[2], const Conv2dArgs& args,
                      bool count_include_pad, int64_t out_h, int64_t out_w, const Array& out) = 0;
  // dx [N, C, H, W] (fresh, contiguous) = the gradient of pool2d (same arguments) for grad [N, C, out_h,
  // out_w] (contiguous): max sends each window's gradient to its first maximum (the forward's pick),
  // average spreads it over the window's real cells divided as in the forward. Returns false, having
  // written nothing, where the backend has no such kernel; the caller then composes the backward.
  virtual bool pool2d_backward(bool /*max*/, const Array& /*x*/, const Array& /*grad*/, const int64_t /*kernel*/[2],
                               const Conv2dArgs& /*args*/, bool /*count_include_pad*/, const Array& /*dx*/) {
    return false;
  }
  // out[b] = softmax(q[b] @ k[b]^T * scale + mask[b], causal: keys after the query masked) @ v[b], in f32
  // and rounded once, for each batch index b = (b0, b1) of two batch axes (the core folds a call's batch
  // axes into two where strides allow, so that heads split from one projection, [B, H, L, E] with strides
  // nesting neither way, are one call): q [B0, B1, L, E], k [B0, B1, S, E], v [B0, B1, S, Ev] and mask
  // [B0, B1, L, S] are views with any strides (mask may be null); out [B0, B1, L, Ev] has contiguous rows
  // and any row and batch strides (the core lays it out as q is, as PyTorch's empty_like). Backends
  // without a kernel for two batch axes loop over B0 with for_each_batch (batching.h).
  virtual void attention(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                         const Array& out) = 0;
  // `attention` that also keeps what the fused backward would otherwise recompute: each row's log-sum-exp
  // of the scaled scores (base 2, f32) in `stats` [B0, B1, L] (contiguous rows), an int32 array holding the
  // f32 bit patterns (the core has no f32 dtype; nothing but attention_backward reads them). Returns false,
  // having written nothing, where the backend keeps no statistics for these operands; the caller then
  // runs `attention`.
  virtual bool attention_keeping_stats(const Array& /*q*/, const Array& /*k*/, const Array& /*v*/,
                                       const Array* /*mask*/, bool /*causal*/, float /*scale*/, const Array& /*out*/,
                                       const Array& /*stats*/) {
    return false;
  }
  // Dropout of one attention call's probabilities (philox.h's attention dropout): probability (b, i, j) of
  // the call, b = b0 * B1 + b1, has counter offset + (b * L + i) * ceil(S / 4) + j / 4 (the core moves
  // `offset` to each call's first batch), is kept when its word >= threshold and then multiplied by scale
  // (0 when p = 1: none is kept). The softmax's sums are over the probabilities before dropout.
  struct Dropout {
    uint64_t seed, offset;
    uint32_t threshold;
    float scale;
    // The dropout of a call made of this one's batches from `batch` on (rows of `len` queries, `keys` keys).
    Dropout from_batch(int64_t batch, int64_t len, int64_t keys) const {
      Dropout d = *this;
      d.offset += static_cast<uint64_t>(batch) * static_cast<uint64_t>(len) * static_cast<uint64_t>((keys + 3) / 4);
      return d;
    }
  };
  // `attention` with that dropout, also keeping the statistics in `stats` unless it is null (as
  // attention_keeping_stats). Returns false, having written nothing, where the backend has no such kernel
  // (or keeps no statistics for these operands while `stats` is given).
  virtual bool attention_dropout(const Array& /*q*/, const Array& /*k*/, const Array& /*v*/, const Array* /*mask*/,
                                 bool /*causal*/, float /*scale*/, const Dropout& /*dropout*/, const Array& /*out*/,
                                 const Array* /*stats*/) {
    return false;
  }
  // Gradients of attention for q, k and v: dq [B0, B1, L, E], dk [B0, B1, S, E] and dv [B0, B1, S, Ev]
  // (contiguous rows, any row and batch strides: laid out as q, k and v are) from the forward's operands
  // (as in `attention`; the mask a constant) and grad [B0, B1, L, Ev] (a view with contiguous rows);
  // `saved` is the forward's output and stats from attention_keeping_stats, or null (the backward
  // recomputes them); `dropout` the forward's, or null. Returns false, having written nothing, where the
  // backend has no fused kernel for these operands; the caller then composes the backward from other ops.
  struct AttentionSaved {
    Array out, stats;
  };
  virtual bool attention_backward(const Array& /*q*/, const Array& /*k*/, const Array& /*v*/, const Array* /*mask*/,
                                  const Array& /*grad*/, bool /*causal*/, float /*scale*/,
                                  const AttentionSaved* /*saved*/, const Dropout* /*dropout*/, const Array& /*dq*/,
                                  const Array& /*dk*/, const Array& /*dv*/) {
    return false;
  }
  // Checks that every class target (an integer array, contiguous) other than ignore_index is in [0, classes),
  // before the cross-entropy kernels, which trust their targets. The default reads them to the host and
  // throws IndexOutOfRange (target_out_of_range's message) at once; CUDA checks on the device without
  // waiting and throws the same error at the next synchronising point (cuda/deferred_error.cu). `op` must
  // be a string literal (CUDA keeps the pointer until then).
  virtual void check_class_targets(const Array& target, int64_t classes, int64_t ignore_index, const char* op);
  // The rows weight[index] ([*index.shape, dim], f16) of weight [rows, dim] (contiguous, f16) without reading
  // the indices on the host: the backend checks their range as check_class_targets does (op "embedding", no
  // ignored value: kNoIgnoredIndex) and gives zeros for a row out of range until that error is raised.
  // nullopt, having done nothing, where the backend has no such kernel (or not for this index dtype); the
  // core then computes the rows' offsets on the host.
  virtual std::optional<Array> embedding_rows(const Array& /*weight*/, const Array& /*index*/) { return std::nullopt; }
  // The embedding's gradient: zeros [num_weights, dim] with each row of grad ([n, dim], contiguous f16) added
  // at the row its index names (index [n], contiguous int32/int64), summed in f32 and rounded once, without
  // reading the indices on the host: their range is checked as embedding_rows does (op
  // "embedding_backward"), and an entry out of range adds nothing until that error is raised. nullopt,
  // having done nothing, where the backend has no such kernel; the core then reads the indices on the host.
  virtual std::optional<Array> embedding_backward(const Array& /*grad*/, const Array& /*index*/,
                                                  int64_t /*num_weights*/) {
    return std::nullopt;
  }
  // gather and scatter/scatter_add along `axis` without reading the indices on the host. gather_device: the
  // array (index's shape) of a[index[e] along axis, e's other coordinates] for each element e of index
  // (contiguous int32 or int64, not empty). scatter_device: dst (contiguous) at those positions gets values[e]
  // (contiguous, index's shape), added where `accumulate` (f16 sums in f32, rounded once), else the last
  // write in index order wins. An index outside [0, size of axis) is checked as embedding_rows does (op
  // `op`, a literal; the error names dimension `axis`): its element reads zero or writes nothing until that
  // error is raised. nullopt or false, having done nothing, where the backend reads indices on the host (the
  // core then does).
  virtual std::optional<Array> gather_device(const Array& /*a*/, int /*axis*/, const Array& /*index*/,
                                             const char* /*op*/) {
    return std::nullopt;
  }
  virtual bool scatter_device(const Array& /*values*/, int /*axis*/, const Array& /*index*/, const Array& /*dst*/,
                              bool /*accumulate*/, const char* /*op*/) {
    return false;
  }
  // One index array along one dimension (index_select, t[idx], t[:, idx] and index_put_ there) without
  // reading it on the host. take_device: the array [a.shape[:dim], index.shape, a.shape[dim + 1:]] of a's
  // blocks at index along dim (index contiguous int32 or int64, not empty; a negative value counts from the
  // end where `wrap`, as advanced indexing does, and is out of range otherwise, as for index_select).
  // put_device: values (contiguous, that shape) written or added (accumulate: f16 sums in f32, rounded once)
  // at those blocks of a (any strides; wrapping), the last write in index order winning. Indices out of
  // range as in gather_device. nullopt or false, having done nothing, where the backend reads indices on the
  // host.
  virtual std::optional<Array> take_device(const Array& /*a*/, int /*dim*/, const Array& /*index*/, bool /*wrap*/,
                                           const char* /*op*/) {
    return std::nullopt;
  }
  virtual bool put_device(const Array& /*a*/, int /*dim*/, const Array& /*index*/, const Array& /*values*/,
                          bool /*accumulate*/, const char* /*op*/) {
    return false;
  }
  // Keeps elements with (col - row) <= k (lower) or >= k (upper) of the last two axes; zeroes the rest.
  virtual void tri(const Array& in, int64_t k, bool upper, const Array& out) = 0;

  // Philox4x32-10 stream: element i uses counter (offset + i / 4), lane i % 4.
  virtual void random(RandomKind kind, uint64_t seed, uint64_t offset, double low, double high,
                      const Array& out) = 0;

  // One fused optimizer update (see tensorlogic/optim.h): param f16 contiguous, grad f16 contiguous of the
  // same shape, state = the kind's f32 slots (int32-typed words), all checked by the core. The CPU's and
  // Metal's family, which the default optimizer_steps runs per parameter; without it, DeviceError.
  virtual void optimizer_step(OptimizerKind kind, const OptimizerParams& params, const Array& param,
                              const Array& grad, const std::vector<Array>& state);
  // The updates of several parameters of this device with the same options, each as optimizer_step (checked
  // alike), under a loss scaler's flags (tensorlogic/optim.h; defined ones are on this device). The default
  // reads the flags and device step counts back (at once: free on the CPU, one wait elsewhere) and updates
  // the parameters one by one; CUDA covers them all in a few launches (multi-tensor kernels) that read the
  // flags and counts themselves.
  virtual void optimizer_steps(OptimizerKind kind, const OptimizerParams& params,
                               const std::vector<OptimizerTensors>& tensors, const ScalerFlags& flags);
  // Sets found_inf (int32, one element) to 1 if the f16 `arrays` of this device (contiguous, non-empty) hold
  // an inf or NaN, then multiplies each in place by inv_scale's float32 word (when not null). The default
  // sums a * 0 per array with core ops and reads one value; CUDA checks (and scales) them all in one
  // multi-tensor launch that writes the flag.
  virtual void non_finite_check_and_unscale(const std::vector<Array>& arrays, const Array& found_inf,
                                            const Array* inv_scale);
  // kernels::update_loss_scale of `s` (all on this device) given found_inf. The default reads the three
  // values back; CUDA updates them in a one-thread kernel.
  virtual void update_loss_scale(const LossScale& s, const Array& found_inf, double growth, double backoff,
                                 int64_t growth_interval);
};

// The kernel families every device backend (cpp/cpu, cuda, objc) implements, declared once: each backend
// class lists TL_BACKEND_KERNELS, so a new family is its Backend declaration above, one line here and
// each backend's definition. Families only some backends have (attention_backward, copy_peer,
// optimizer_step or optimizer_steps) are declared by those backends.
#define TL_BACKEND_KERNELS                                                                                      \
  void copy_from_host(const void* src, const Array& dst) override;                                              \
  void copy_to_host(const Array& src, void* dst) override;                                                      \
  void copy(const Array& src, const Array& dst) override;                                                       \
  void fill(const Array& dst, double value) override;                                                           \
  void unary(UnaryOp op, const Array& in, const Array& out, const UnaryParams& params) override;                \
  void binary(BinaryOp op, const Operand& a, const Operand& b, const Array& out) override;                      \
  void ternary(TernaryOp op, const Array& a, const Array& b, const Array& c, const Array& out) override;        \
  void reduce(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out,          \
              const ReduceParams& params) override;                                                             \
  void argsort(const Array& in, int64_t rows, int64_t n, bool descending, const Array& out) override;           \
  void scan(ScanOp op, const Array& in, int64_t rows, int64_t n, const Array& out) override;                    \
  void searchsorted(const Array& sorted, const Array& probe, bool right, const Array& out) override;            \
  void take_rows(const Array& src, const Array& index, const Array& out) override;                              \
  int64_t flatnonzero(const Array& mask, const Array& out) override;                                            \
  void rows(RowOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) override;     \
  void norm(bool rms, const Array& in, int64_t rows, int64_t n, const Array* weight, const Array* bias,         \
            double eps, const Array& out) override;                                                             \
  bool cross_entropy(const Array& logits, const Array& target, int64_t rows, int64_t n, int64_t ignore_index,   \
                     float label_smoothing, const Array& out, const Array* row_lse) override;                   \
  void gemm(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) override;           \
  void index_gather(const Array& src, const std::vector<int64_t>& offsets, const Array& out) override;          \
  void index_scatter(const Array& values, const std::vector<int64_t>& offsets, const Array& dst,                \
                     bool accumulate) override;                                                                 \
  void im2col(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h, int64_t out_w,    \
              const Array& out) override;                                                                       \
  void col2im(const Array& cols, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h, int64_t out_w, \
              const Array& out) override;                                                                       \
  void pool2d(bool max, const Array& x, const int64_t kernel[2], const Conv2dArgs& args,                        \
              bool count_include_pad, int64_t out_h, int64_t out_w, const Array& out) override;                 \
  void attention(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,   \
                 const Array& out) override;                                                                    \
  void tri(const Array& in, int64_t k, bool upper, const Array& out) override;                                  \
  void random(RandomKind kind, uint64_t seed, uint64_t offset, double low, double high, const Array& out)       \
      override;

// The coefficients of cpp/kernels/optimizer.h's update for a parameter of `numel` elements.
kernels::OptimizerCoeffs optimizer_coeffs(OptimizerKind kind, const OptimizerParams& params, int64_t numel);
// The options kernels::set_step reads, for a step count kept on the device.
kernels::StepOptions step_options(const OptimizerParams& params);
// ArgumentError unless `a` is undefined or a contiguous one-element int32 array (a device step count, a
// loss scaler's flag or float32 word), naming op and the argument.
void check_word(const char* op, const char* name, const Array& a);
// `a` on `device` (a copy where it lives elsewhere; undefined stays undefined): a loss scaler's flags follow
// each parameter's device, as PyTorch's non_blocking .to() does.
Array on_device(const Array& a, Device device);

// The message of IndexOutOfRange for a class target outside [0, classes) that is not ignore_index.
std::string target_out_of_range(const char* op, int64_t value, int64_t classes, int64_t ignore_index);
// The message of IndexOutOfRange for an index outside [0, size) of dimension dim (gather, embedding, ...).
std::string index_out_of_range(const char* op, int64_t value, int64_t dim, int64_t size);
// The ignore_index of a check with no ignored value (an embedding's indices): no int64 index equals it
// after the range test, and target_out_of_range then words its message as index_out_of_range's for dimension 0.
constexpr int64_t kNoIgnoredIndex = INT64_MIN;

// The backend of a device; DeviceError naming the available devices when it is not built or present.
Backend& backend_for(Device device);

// The backend all arrays run on, after checking they share one device (DeviceError otherwise).
Backend& backend_of(const char* op, std::initializer_list<const Array*> arrays);

}  // namespace tensorlogic
