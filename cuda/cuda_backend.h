// The CUDA backend: every GPU of the machine, each with one stream and its cudaMalloc memory in a buffer
// cache of its own; calls run on the device that backend_for selected on the calling thread.
#pragma once
#include "../cpp/core/backend.h"

namespace tensorlogic::cuda {

class CudaBackend final : public Backend {
 public:
  DeviceType type() const override { return DeviceType::cuda; }
  BufferCache& cache() override;
  void synchronize() override;
  int device_count() const override;
  void select(int index) override;
  DeviceProperties properties() override;
  std::unique_ptr<DeviceEvent> create_event(bool timing) override;
  std::unique_ptr<DeviceGraph> create_graph() override;
  uintptr_t stream_handle() override;
  int64_t host_reads() const override;
  void copy_peer(const Array& src, const Array& dst) override;

  TL_BACKEND_KERNELS
  void optimizer_steps(OptimizerKind kind, const OptimizerParams& params, const std::vector<OptimizerTensors>& tensors,
                       const ScalerFlags& flags) override;
  void non_finite_check_and_unscale(const std::vector<Array>& arrays, const Array& found_inf,
                                    const Array* inv_scale) override;
  void update_loss_scale(const LossScale& s, const Array& found_inf, double growth, double backoff,
                         int64_t growth_interval) override;
  void reduce_int(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) override;
  bool attention_keeping_stats(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal,
                               float scale, const Array& out, const Array& stats) override;
  bool attention_dropout(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                         const Dropout& dropout, const Array& out, const Array* stats) override;
  bool attention_backward(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& grad,
                          bool causal, float scale, const AttentionSaved* saved, const Dropout* dropout,
                          const Array& dq, const Array& dk, const Array& dv) override;
  bool cross_entropy_backward(const Array& logits, const Array& target, const Array& grad, const Array* row_lse,
                              int64_t rows, int64_t n, int64_t ignore_index, float label_smoothing,
                              const Array& out) override;
  void check_class_targets(const Array& target, int64_t classes, int64_t ignore_index, const char* op) override;
  std::optional<Array> embedding_rows(const Array& weight, const Array& index) override;
  std::optional<Array> embedding_backward(const Array& grad, const Array& index, int64_t num_weights) override;
  std::optional<Array> gather_device(const Array& a, int axis, const Array& index, const char* op) override;
  bool scatter_device(const Array& values, int axis, const Array& index, const Array& dst, bool accumulate,
                      const char* op) override;
  std::optional<Array> take_device(const Array& a, int dim, const Array& index, bool wrap, const char* op) override;
  bool put_device(const Array& a, int dim, const Array& index, const Array& values, bool accumulate,
                  const char* op) override;
  bool activation_backward_columns(BinaryOp op, const Array& grad, const Array& x, int64_t rows, int64_t n,
                                   const Array& dx, const Array& sums) override;
  bool linear_weight_bias_grad(const Array& grad, const Array& x, const Array& dw, const Array& db) override;
  void quantized_gemm(QuantType type, const Array& x, const Array& blocks, const Array& out,
                      const GemmEpilogue& epilogue) override;
  void dequantize(QuantType type, const Array& blocks, const Array& out) override;
  bool norm_backward(bool rms, const Array& x, const Array& grad, const Array* weight, int64_t rows, int64_t n,
                     double eps, const Array& dx, bool accumulate, const Array* dweight, const Array* dbias) override;
  bool recurrent_cell(CellKind kind, const Array& gi, const Array& gh, const Array& h, const Array* c,
                      const Array& h_out, const Array* c_out) override;
  bool recurrent_cell_backward(CellKind kind, const Array& gi, const Array& gh, const Array& h, const Array* c,
                               const Array& dh, const Array* dc, const Array& dgi, const CellGradArrays& out) override;
};

// Throws the first error a check kernel of the selected device recorded since the last call (see
// deferred_error.cu); called where the host has just waited for the device.
void raise_deferred_errors();
// Marks the selected device's record for reading at the next wait; called after queueing kernels that may
// write it (a reader that disarms first then still finds their record).
void arm_deferred_record();
// Whether this thread armed the record since its last call: graph.cpp asks at capture start and end, and a
// graph whose capture queued checks arms the record again at every replay.
bool take_captured_checks();

// Scratch memory of the selected device from its buffer cache for the duration of one backend call; its
// reuse is ordered after the kernels that use it because all work of a device runs on its one stream.
class Scratch {
 public:
  explicit Scratch(size_t nbytes);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  BufferCache* cache_;
  void* ptr_ = nullptr;
  size_t bucket_ = 0;
};

}  // namespace tensorlogic::cuda
