// The CPU backend: the portable reference every other backend is tested against.
#pragma once
#include "../core/backend.h"

namespace tensorlogic::cpu {

class CpuBackend final : public Backend {
 public:
  CpuBackend();
  DeviceType type() const override { return DeviceType::cpu; }
  BufferCache& cache() override;
  DeviceProperties properties() override;
  std::unique_ptr<DeviceEvent> create_event(bool timing) override;

  TL_BACKEND_KERNELS
  int gemm_batch_axes() const override { return 2; }
  void optimizer_step(OptimizerKind kind, const OptimizerParams& params, const Array& param, const Array& grad,
                      const std::vector<Array>& state) override;
  bool conv2d(const Array& x, const Array& w, const Array* bias, const Conv2dArgs& args, int64_t groups,
              const Array& out) override;
  bool conv2d_backward(const Array& x, const Array& w, const Array& grad, const Conv2dArgs& args, int64_t groups,
                       const Array* dx, const Array* dw, const Array* db) override;
  bool attention_dropout(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                         const Dropout& dropout, const Array& out, const Array* stats) override;
  bool attention_backward(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& grad,
                          bool causal, float scale, const AttentionSaved* saved, const Dropout* dropout,
                          const Array& dq, const Array& dk, const Array& dv) override;
  bool pool2d_backward(bool max, const Array& x, const Array& grad, const int64_t kernel[2], const Conv2dArgs& args,
                       bool count_include_pad, const Array& dx) override;
  void reduce_int(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) override;
  void quantized_gemm(QuantType type, const Array& x, const Array& blocks, const Array& out,
                      const GemmEpilogue& epilogue) override;
  void dequantize(QuantType type, const Array& blocks, const Array& out) override;
  bool cross_entropy_backward(const Array& logits, const Array& target, const Array& grad, const Array* row_lse,
                              int64_t rows, int64_t n, int64_t ignore_index, float label_smoothing,
                              const Array& out) override;
  bool activation_backward_columns(BinaryOp op, const Array& grad, const Array& x, int64_t rows, int64_t n,
                                   const Array& dx, const Array& sums) override;
  bool norm_backward(bool rms, const Array& x, const Array& grad, const Array* weight, int64_t rows, int64_t n,
                     double eps, const Array& dx, bool accumulate, const Array* dweight, const Array* dbias) override;
  bool recurrent_cell(CellKind kind, const Array& gi, const Array& gh, const Array& h, const Array* c,
                      const Array& h_out, const Array* c_out) override;
  bool recurrent_cell_backward(CellKind kind, const Array& gi, const Array& gh, const Array& h, const Array* c,
                               const Array& dh, const Array* dc, const Array& dgi, const CellGradArrays& out) override;

 private:
  void gemm_two_axes(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue);
};

}  // namespace tensorlogic::cpu
