// Every tensor op of SPEC §4, described once: checks and shape rules live in cpp/core, kernels in the
// backend of the inputs. Float results are f16, rounded once; accumulation inside an op is f32.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <type_traits>
#include <vector>

#include "tensorlogic/array.h"
#include "tensorlogic/op_enums.h"  // UnaryOp, BinaryOp, ... (listed once, in op_table.def)

namespace tensorlogic {

// ---- numbers -----------------------------------------------------------------------------------------
// A number operand (Python's bool, int or float; C++'s bool, integer and floating types): PyTorch's "wrapped
// number". Its kind, never its value, takes part in type promotion, and only by category (bool < integer <
// float) against tensors: 1.0 beside an int64 tensor gives float16, 2 beside an int32 tensor keeps int32.
class Scalar {
 public:
  enum class Kind : uint8_t { boolean, integer, floating };
  Scalar() : Scalar(0.0) {}
  Scalar(bool value) : kind_(Kind::boolean), integer_(value), floating_(value) {}
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Scalar(T value)
      : kind_(Kind::integer), integer_(static_cast<int64_t>(value)), floating_(static_cast<double>(value)) {}
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Scalar(T value) : kind_(Kind::floating), floating_(static_cast<double>(value)) {}

  Kind kind() const { return kind_; }
  // The dtype it promotes as: bool, int64 (PyTorch's integer default) or float16 (every float).
  Dtype dtype() const {
    return kind_ == Kind::boolean ? Dtype::bool_ : kind_ == Kind::integer ? Dtype::int64 : Dtype::float16;
  }
  double to_double() const { return floating_; }
  int64_t to_int() const { return integer_; }  // exact for bool and integer numbers (0 for floats)

 private:
  Kind kind_;
  int64_t integer_ = 0;
  double floating_ = 0.0;
};

// ---- kernel families -------------------------------------------------------------------------------
struct UnaryParams {
  float a = 0.0f;  // clamp: min; softplus: beta; pow_scalar: exponent; rpow_scalar: base
  float b = 0.0f;  // clamp: max; softplus: threshold
};
struct ReduceParams {
  double correction = 1.0;  // var
  double p = 2.0;           // norm
};

const char* unary_name(UnaryOp op);
const char* binary_name(BinaryOp op);
const char* reduce_name(ReduceOp op);

// ---- creation and movement -------------------------------------------------------------------------
Array empty(const Shape& shape, Dtype dtype = Dtype::float16, Device device = default_device());
Array full(const Shape& shape, double value, Dtype dtype = Dtype::float16, Device device = default_device());
Array zeros(const Shape& shape, Dtype dtype = Dtype::float16, Device device = default_device());
Array ones(const Shape& shape, Dtype dtype = Dtype::float16, Device device = default_device());
Array arange(double start, double end, double step, Dtype dtype = Dtype::float16, Device device = default_device());
Array linspace(double start, double end, int64_t steps, Device device = default_device());
Array eye(int64_t n, int64_t m, Device device = default_device());
// Copies host data of `dtype` (f16 bits or int32) into a new array.
Array from_host(const void* data, const Shape& shape, Dtype dtype, Device device = default_device());
// Converts f32 host data to f16; finite values beyond ±65504 raise PrecisionOverflowError.
Array from_host_f32(const float* data, const Shape& shape, Device device = default_device());
void to_host(const Array& a, void* out);  // contiguous copy of `a` into host memory
Array to_device(const Array& a, Device device);
Array contiguous(const Array& a);
Array clone(const Array& a);
Array astype(const Array& a, Dtype dtype);
void copy_(const Array& dst, const Array& src);  // src broadcasts to dst; converts dtype
void fill_(const Array& dst, double value);

// ---- views (no copies) ----------------------------------------------------------------------------
Array reshape(const Array& a, const Shape& shape);  // one -1 allowed; copies only if no view exists
Array view(const Array& a, const Shape& shape);     // never copies; ArgumentError when impossible
Array permute(const Array& a, const std::vector<int>& dims);
Array transpose(const Array& a, int dim0, int dim1);
Array squeeze(const Array& a, std::optional<std::vector<int>> dims = std::nullopt);
Array unsqueeze(const Array& a, int dim);
Array expand(const Array& a, const Shape& shape);  // -1 keeps a size
Array broadcast_to(const Array& a, const Shape& shape);
Array flatten(const Array& a, int start_dim = 0, int end_dim = -1);
Array slice(const Array& a, int dim, int64_t start, int64_t stop, int64_t step = 1);  // python semantics
Array select(const Array& a, int dim, int64_t index);
Array diagonal(const Array& a, int64_t offset = 0, int dim1 = 0, int dim2 = 1);
// The windows of `size` elements every `step` along `dim`, as a new last dimension (Tensor.unfold).
Array unfold(const Array& a, int dim, int64_t size, int64_t step);
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
std::vector<Array> split(const Array& a, const std::vector<int64_t>& sizes, int dim);
std::vector<Array> chunk(const Array& a, int64_t chunks, int dim);
// The view that `parts` jointly cover when they lie side by side along `dim` in one storage (same dtype,
// strides and other sizes, each starting where the previous one ends): the result of cat(parts, dim) with
// no copy, aliasing the parts. Nothing otherwise. For a backward joining gradients it alone holds.
std::optional<Array> join_adjacent(const std::vector<Array>& parts, int dim);

// ---- elementwise -----------------------------------------------------------------------------------
// The dtype of an op's result over these tensors and numbers, as torch.result_type: the highest category (bool <
// integer < float) among them; within it, the promotion of the tensors with dimensions, else of the 0-d
// tensors, else of the numbers.
Dtype result_type(const std::vector<Array>& tensors, const std::vector<Scalar>& numbers = {});
Array unary(UnaryOp op, const Array& a, UnaryParams params = {});
Array binary(BinaryOp op, const Array& a, const Array& b);
Array binary(BinaryOp op, const Array& a, Scalar b);
Array binary(BinaryOp op, Scalar a, const Array& b);
Array ternary(TernaryOp op, const Array& a, const Array& b, const Array& c);
// where and clamp promote their values (and bounds) together, numbers included.
Array where(const Array& cond, const Array& a, const Array& b);
Array where(const Array& cond, const Array& a, Scalar b);
Array where(const Array& cond, Scalar a, const Array& b);
Array where(const Array& cond, Scalar a, Scalar b);
Array clamp(const Array& a, std::optional<Scalar> min, std::optional<Scalar> max);
// In place: `out` is updated through its own strides (it must not need broadcasting); a result that cannot be
// cast to out's dtype (can_cast) throws DtypeError.
void unary_(UnaryOp op, const Array& out, UnaryParams params = {});
void binary_(BinaryOp op, const Array& out, const Array& b);
void binary_(BinaryOp op, const Array& out, Scalar b);
void clamp_(const Array& out, std::optional<Scalar> min, std::optional<Scalar> max);

// An activation's backward op(grad, x) (gelu_backward, gelu_tanh_backward, silu_backward, tanh_backward) and
// the column sums of its result over all but the last axis, [dx, sums], in one pass: the bias gradient of the
// linear layer the activation follows. nullopt where the backend has no fused kernel (the caller composes it).
std::optional<std::vector<Array>> activation_backward_column_sums(BinaryOp op, const Array& grad, const Array& x);
inline Array add(const Array& a, const Array& b) { return binary(BinaryOp::add, a, b); }
inline Array sub(const Array& a, const Array& b) { return binary(BinaryOp::sub, a, b); }
inline Array mul(const Array& a, const Array& b) { return binary(BinaryOp::mul, a, b); }
inline Array div(const Array& a, const Array& b) { return binary(BinaryOp::div, a, b); }
inline Array exp(const Array& a) { return unary(UnaryOp::exp, a); }
inline Array log(const Array& a) { return unary(UnaryOp::log, a); }
inline Array relu(const Array& a) { return unary(UnaryOp::relu, a); }

// ---- reductions (empty dims: all) ------------------------------------------------------------------
Array reduce(ReduceOp op, const Array& a, const std::vector<int>& dims, bool keepdim, ReduceParams params = {});
inline Array sum(const Array& a, const std::vector<int>& dims = {}, bool keepdim = false) {
  return reduce(ReduceOp::sum, a, dims, keepdim);
}
inline Array mean(const Array& a, const std::vector<int>& dims = {}, bool keepdim = false) {
  return reduce(ReduceOp::mean, a, dims, keepdim);
}

// ---- ordering and scans (cpp/core/ordering.cpp) ---------------------------------------------------
enum class ScanOp : uint8_t { cumsum, cumprod };
// The stable order along dim (int64 indices; NaN counts as the largest value, as in PyTorch).
Array argsort(const Array& a, int dim = -1, bool descending = false);
// Inclusive cumulative sum or product along dim: f16 accumulates in f32; integers and bools in int64.
Array scan(ScanOp op, const Array& a, int dim);
// The language's tuple engine works on sorted int64 arrays on the device with these three.
// For each value (int64, any shape), its insertion position in the ascending 1-d int64 `sorted`: the first
// position after the values below it (after those equal to it with `right`), as torch.searchsorted.
Array searchsorted(const Array& sorted, const Array& values, bool right = false);
// Rows `index` (1-d int64, each in [0, n)) of src [n, ...] read on src's device (no host copy of the
// indices, unlike index_select): out [len(index), ...].
Array take_rows(const Array& src, const Array& index);
// The positions (1-d int64, ascending) of the true entries of a 1-d bool mask.
Array flatnonzero(const Array& mask);

// ---- rows ------------------------------------------------------------------------------------------
Array softmax(const Array& a, int dim);
Array log_softmax(const Array& a, int dim);
Array layer_norm(const Array& a, const Shape& normalized_shape, const std::optional<Array>& weight,
                 const std::optional<Array>& bias, double eps = 1e-5);
Array rms_norm(const Array& a, const Shape& normalized_shape, const std::optional<Array>& weight,
               std::optional<double> eps = std::nullopt);
// Per-row loss of logits [..., C] (classes last) against integer class targets [...]: logsumexp(x) - (1 - s) x[t]
// - s / C * sum(x), one pass per row in f32, rounded once; 0 where the target is ignore_index. Another target
// outside [0, C) throws IndexOutOfRange: here on the CPU; on CUDA, checked on the device without waiting, at
// the next point where the host waits for that device (to_host, synchronize), its rows NaN until then.
Array softmax_cross_entropy(const Array& logits, const Array& target, int64_t ignore_index = -100,
                            double label_smoothing = 0.0);
// The same, and the statistics the fused backward reads (each row's log-sum-exp, opaque: int32 holding f32 bits,
// [rows]), or nullopt where the device keeps none: training keeps them so the backward reads the logits once.
std::pair<Array, std::optional<Array>> softmax_cross_entropy_keeping_stats(const Array& logits, const Array& target,
                                                                           int64_t ignore_index = -100,
                                                                           double label_smoothing = 0.0);
// d loss / d logits = (softmax(x) - (1 - s) onehot(t) - s / C) * grad per row (0 on ignored rows), from the
// forward's logits and targets (and its statistics, where kept) and grad [...] of the per-row loss; nullopt
// where the backend has no fused kernel (the caller composes it from other ops).
std::optional<Array> softmax_cross_entropy_backward(const Array& logits, const Array& target, const Array& grad,
                                                    int64_t ignore_index = -100, double label_smoothing = 0.0,
                                                    const std::optional<Array>& saved_stats = std::nullopt);
// Gradients of layer_norm (rms false) or rms_norm over the trailing normalized_shape: [dx, dweight, dbias],
// the last two empty arrays where not asked for; nullopt where the backend has no fused kernel. With
// `accumulate_into` (a contiguous float16 array of x's shape), dx is added into it in place and it is the dx
// returned: autograd's sum of a residual stream's gradients without a pass of its own.
std::optional<std::vector<Array>> norm_backward(bool rms, const Array& x, const Array& grad,
                                                const Shape& normalized_shape, const std::optional<Array>& weight,
                                                double eps, bool weight_grad, bool bias_grad,
                                                const std::optional<Array>& accumulate_into = std::nullopt);

// ---- recurrent cells ---------------------------------------------------------------------------------
// One step of a recurrent cell (torch.nn's RNN, LSTM, GRU; cpp/kernels/recurrent.h) from its gate projections
// gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh [N, gates * H] and its state h (and c, LSTM only) [N, H]:
// {h'} or, for the LSTM, {h', c'}, in f32 and rounded once; nullopt where the backend has no such kernel
// (the caller composes the step from other ops).
std::optional<std::vector<Array>> recurrent_cell(CellKind kind, const Array& gi, const Array& gh, const Array& h,
                                                 const std::optional<Array>& c);
// The gradients of that step for dh (and dc, LSTM) [N, H] of its new state: {dgi, dgh, dh, dc} where dgh is
// dgi itself but for the GRU; dh (GRU) and dc (LSTM) are the gradients through the old state directly (not
// through gh), empty arrays for the other kinds. Recomputed from the step's inputs; nullopt as above.
std::optional<std::vector<Array>> recurrent_cell_backward(CellKind kind, const Array& gi, const Array& gh,
                                                          const Array& h, const std::optional<Array>& c,
                                                          const Array& dh, const std::optional<Array>& dc);

// ---- linear algebra --------------------------------------------------------------------------------
Array matmul(const Array& a, const Array& b);
// x @ w.T (+ bias) (+ residual) then activation, rounded once (the fused linear family).
Array linear(const Array& x, const Array& w, const std::optional<Array>& bias, Activation act = Activation::none,
             const std::optional<Array>& residual = std::nullopt);
// The weight and bias gradients of linear, {grad_weight [N, K], grad_bias [N]}, from its output's gradient grad
// [..., N] and its input x [..., K] (the same leading shape, flattened to M rows): grad_weight = grad^T @ x
// with f32 accumulation and grad_bias = grad summed over the rows in f32, each rounded once. One pass over
// grad where the backend fuses the sum into the GEMM (CUDA, opt-in: cuda/gemm.cpp's TL_CUDA_BGRAD), else matmul
// and sum.
std::vector<Array> linear_weight_bias_grad(const Array& grad, const Array& x);
// linear with a weight [out_features, in_features] kept in a GGUF block format (op_table.def's TL_QUANT):
// `blocks` is int32 [out_features, words], row j holding in_features / quant_block_elems(type) blocks from
// its start (the bytes carried as int32 words; rows padded to whole words). CPU only for now.
Array quantized_linear(const Array& x, const Array& blocks, QuantType type, int64_t in_features,
                       const std::optional<Array>& bias, Activation act = Activation::none,
                       const std::optional<Array>& residual = std::nullopt);
// The f16 weight [out_features, in_features] of such blocks, each value rounded once.
Array dequantize(const Array& blocks, QuantType type, int64_t in_features);
const char* quant_name(QuantType type);  // GGUF's name: "Q8_0", ...
Array einsum(const std::string& equation, const std::vector<Array>& operands);
Array tril(const Array& a, int64_t k = 0);
Array triu(const Array& a, int64_t k = 0);

// ---- joining and indexing --------------------------------------------------------------------------
Array cat(const std::vector<Array>& arrays, int dim);
Array stack(const std::vector<Array>& arrays, int dim);
Array pad(const Array& a, const std::vector<int64_t>& pads, const std::string& mode, double value);
Array gather(const Array& a, int dim, const Array& index);
Array scatter_add(const Array& a, int dim, const Array& index, const Array& src);
// A copy of a with src written at the positions index names along dim (where they repeat, the last wins).
Array scatter(const Array& a, int dim, const Array& index, const Array& src);
Array index_select(const Array& a, int dim, const Array& index);
Array embedding(const Array& weight, const Array& index);
// embedding's gradient with respect to weight (PyTorch's embedding_dense_backward without padding_idx):
// zeros [num_weights, dim] with each row of grad [*index.shape, dim] (f16) added at the row its index names,
// repeats summed in f32 and rounded once; an index out of [0, num_weights) raises IndexOutOfRange (on CUDA
// at the next wait for the device: the indices are not read on the host).
Array embedding_backward(const Array& grad, const Array& index, int64_t num_weights);
// Advanced indexing: one optional int32 index array per leading dim (nullopt keeps the dim whole).
Array index(const Array& a, const std::vector<std::optional<Array>>& indices);
void index_put_(const Array& a, const std::vector<std::optional<Array>>& indices, const Array& values,
                bool accumulate);

// ---- convolution family (NCHW) ---------------------------------------------------------------------
struct Conv2dArgs {
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
};
Array im2col(const Array& x, const int64_t kernel[2], const Conv2dArgs& args);  // [N, C*kh*kw, L]
Array col2im(const Array& cols, const int64_t output_hw[2], const int64_t kernel[2], const Conv2dArgs& args);
Array conv2d(const Array& x, const Array& w, const std::optional<Array>& bias, const Conv2dArgs& args,
             int64_t groups = 1);
// [dx, dw, db] of conv2d for the output gradient `grad`, each computed where `needs` says (nullopt
// otherwise), or nullopt where the device has no fused backward (the caller composes it from other ops).
std::optional<std::vector<std::optional<Array>>> conv2d_backward(const Array& x, const Array& w, const Array& grad,
                                                                  const Conv2dArgs& args, int64_t groups,
                                                                  const std::array<bool, 3>& needs);
Array max_pool2d(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, bool ceil_mode = false);
Array avg_pool2d(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, bool ceil_mode = false,
                 bool count_include_pad = true);
// The input gradient of max_pool2d (max) or avg_pool2d for the output gradient `grad` (max: all of each
// window's gradient to its first maximum, as PyTorch), or nullopt where the device has no fused backward.
std::optional<Array> pool2d_backward(bool max, const Array& x, const Array& grad, const int64_t kernel[2],
                                     const Conv2dArgs& args, bool ceil_mode, bool count_include_pad);
Array scaled_dot_product_attention(const Array& q, const Array& k, const Array& v,
                                   const std::optional<Array>& mask, bool causal, std::optional<double> scale);
// The same, and the statistics the fused backward reads (each row's log-sum-exp, opaque: int32 holding
// f32 bits, [batch..., L]), or nullopt where the device keeps none: training keeps them so the backward
// does not run the forward again.
std::pair<Array, std::optional<Array>> scaled_dot_product_attention_keeping_stats(
    const Array& q, const Array& k, const Array& v, const std::optional<Array>& mask, bool causal,
    std::optional<double> scale);
// Dropout on attention's probabilities (PyTorch's dropout_p): each kept with probability 1 - p, then scaled
// by 1 / (1 - p), decided by the Philox stream of `seed` from counter `offset` on (cpp/core/philox.h's
// attention dropout), so every device drops the same probabilities and the backward regenerates them.
struct AttentionDropout {
  double p = 0.0;
  uint64_t seed = 0, offset = 0;
};
// Reserves one attention call's dropout counters (for its probabilities [batch..., L, S], the operands
// checked as the call checks them) from the generator: consecutive calls differ, manual_seed repeats them.
AttentionDropout attention_dropout_draw(const Array& q, const Array& k, const Array& v,
                                        const std::optional<Array>& mask, double p);
// The keep decisions of that dropout for probabilities of shape [batch..., L, S] as f16 ones and zeros,
// computed on the host: the kernels' exact mask, for composing attention where a device has no kernel.
Array attention_dropout_keep(const Shape& probs, const AttentionDropout& dropout, Device device);
// scaled_dot_product_attention_keeping_stats with dropout on the probabilities after the softmax, or
// nullopt where the device has no such kernel.
std::optional<std::pair<Array, std::optional<Array>>> scaled_dot_product_attention_dropout(
    const Array& q, const Array& k, const Array& v, const std::optional<Array>& mask, bool causal,
    std::optional<double> scale, const AttentionDropout& dropout);
// [dq, dk, dv] of attention for the output gradient `grad` (the mask a constant; batch-broadcast shapes,
// to be summed over broadcast axes by the caller), or nullopt where the device has no fused backward.
// saved_out and saved_stats: the forward's output and statistics (keeping_stats), or nullopt; dropout:
// the forward's, whose mask the backward regenerates.
std::optional<std::vector<Array>> scaled_dot_product_attention_backward(
    const Array& q, const Array& k, const Array& v, const std::optional<Array>& mask, const Array& grad, bool causal,
    std::optional<double> scale, const std::optional<Array>& saved_out = std::nullopt,
    const std::optional<Array>& saved_stats = std::nullopt,
    const std::optional<AttentionDropout>& dropout = std::nullopt);

// ---- random (one counter-based Philox stream, identical on every device) ---------------------------
void manual_seed(uint64_t seed);
// How many counters of the stream have been drawn since the last seed (a draw of n values takes
// ceil(n / 4)); a change means random numbers were drawn, which a captured graph would repeat.
uint64_t random_offset();
// The generator's whole state, (seed, offset), and its restoration: a stream restored to a state saved earlier
// draws the same numbers again (what activation checkpointing needs to replay dropout in its recomputation).
std::pair<uint64_t, uint64_t> random_state();
void set_random_state(uint64_t seed, uint64_t offset);
Array rand(const Shape& shape, Device device = default_device());
Array randn(const Shape& shape, Device device = default_device());
Array randint(int64_t low, int64_t high, const Shape& shape, Device device = default_device());  // int64
// A random permutation of [0, n) and draws of category indices from the rows of probs ([n] or [rows, n],
// non-negative weights), with or without replacement (int64). Both sample on the host from the one Philox
// stream, so every device gives the same result for the same seed.
Array randperm(int64_t n, Device device = default_device());
// One block of the stream's generator, Philox4x32-10 (cpp/core/philox.h), for any 128-bit counter and
// 64-bit key as two words: what tests hold against Random123's published known-answer vectors.
std::array<uint32_t, 4> philox4x32_10_words(const std::array<uint32_t, 4>& counter, const std::array<uint32_t, 2>& key);
Array multinomial(const Array& probs, int64_t num_samples, bool replacement = false);

void synchronize(Device device);
// The device's queue of work as other libraries name it (cudaStream_t on CUDA; 0 where work is done when its
// call returns); selects the device on this thread, as NCCL's calls need.
uintptr_t stream_handle(Device device);

}  // namespace tensorlogic
