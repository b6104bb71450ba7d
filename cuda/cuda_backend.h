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
  void copy_peer(const Array& src, const Array& dst) override;

  void copy_from_host(const void* src, const Array& dst) override;
  void copy_to_host(const Array& src, void* dst) override;
  void copy(const Array& src, const Array& dst) override;
  void fill(const Array& dst, double value) override;

  void unary(UnaryOp op, const Array& in, const Array& out, const UnaryParams& params) override;
  void binary(BinaryOp op, const Operand& a, const Operand& b, const Array& out) override;
  void ternary(TernaryOp op, const Array& a, const Array& b, const Array& c, const Array& out) override;

  void reduce(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out,
              const ReduceParams& params) override;
  void reduce_int(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) override;
  bool has_ordering() const override { return true; }
  void argsort(const Array& in, int64_t rows, int64_t n, bool descending, const Array& out) override;
  void scan(ScanOp op, const Array& in, int64_t rows, int64_t n, const Array& out) override;
  void rows(RowOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) override;
  void norm(bool rms, const Array& in, int64_t rows, int64_t n, const Array* weight, const Array* bias, double eps,
            const Array& out) override;
  void cross_entropy(const Array& logits, const Array& target, int64_t rows, int64_t n, int64_t ignore_index,
                     float label_smoothing, const Array& out) override;

  void gemm(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) override;

  void index_gather(const Array& src, const std::vector<int64_t>& offsets, const Array& out) override;
  void index_scatter(const Array& values, const std::vector<int64_t>& offsets, const Array& dst,
                     bool accumulate) override;
  void im2col(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h, int64_t out_w,
              const Array& out) override;
  void col2im(const Array& cols, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h, int64_t out_w,
              const Array& out) override;
  void pool2d(bool max, const Array& x, const int64_t kernel[2], const Conv2dArgs& args, bool count_include_pad,
              int64_t out_h, int64_t out_w, const Array& out) override;
  void attention(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                 const Array& out) override;
  bool attention_backward(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& grad,
                          bool causal, float scale, const Array& dq, const Array& dk, const Array& dv) override;
  void tri(const Array& in, int64_t k, bool upper, const Array& out) override;

  void random(RandomKind kind, uint64_t seed, uint64_t offset, double low, double high, const Array& out) override;
  void optimizer_step(OptimizerKind kind, const OptimizerParams& params, const Array& param, const Array& grad,
                      const std::vector<Array>& state) override;
};

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
