// Reductions, row ops (softmax family and norms) and the random generator. Large ones run without the
// GIL (gil.h).
#include "bindings.h"

namespace tensorlogic::python {

void bind_reduce(py::module_& m) {
  py::enum_<ReduceOp> reduce_op(m, "ReduceOp");
#define TL_REDUCE(op) reduce_op.value(#op, ReduceOp::op);
#include "tensorlogic/op_table.def"
  m.def(
      "reduce",
      without_gil(+[](ReduceOp op, const Array& a, const std::vector<int>& dims, bool keepdim, double correction, double p) {
        return reduce(op, a, dims, keepdim, ReduceParams{correction, p});
      }),
      py::arg("op"), py::arg("a"), py::arg("dims"), py::arg("keepdim"), py::arg("correction") = 1.0, py::arg("p") = 2.0);
  py::enum_<ScanOp>(m, "ScanOp").value("cumsum", ScanOp::cumsum).value("cumprod", ScanOp::cumprod);
  m.def("argsort", without_gil(+[](const Array& a, int dim, bool descending) { return argsort(a, dim, descending); }),
        py::arg("a"), py::arg("dim"), py::arg("descending"));
  m.def("scan", without_gil(&scan), py::arg("op"), py::arg("a"), py::arg("dim"));
  m.def("searchsorted", without_gil(&searchsorted), py::arg("sorted"), py::arg("values"), py::arg("right") = false);
  m.def("take_rows", without_gil(&take_rows), py::arg("src"), py::arg("index"));
  m.def("flatnonzero", without_gil(&flatnonzero), py::arg("mask"));
  m.def("softmax", without_gil(&softmax), py::arg("a"), py::arg("dim"));
  m.def("log_softmax", without_gil(&log_softmax), py::arg("a"), py::arg("dim"));
  m.def(
      "layer_norm",
      without_gil(+[](const Array& a, const std::vector<int64_t>& shape, std::optional<Array> weight,
                      std::optional<Array> bias, double eps) { return layer_norm(a, to_shape(shape), weight, bias, eps); }),
      py::arg("a"), py::arg("normalized_shape"), py::arg("weight"), py::arg("bias"), py::arg("eps") = 1e-5);
  m.def(
      "rms_norm",
      without_gil(+[](const Array& a, const std::vector<int64_t>& shape, std::optional<Array> weight,
                      std::optional<double> eps) { return rms_norm(a, to_shape(shape), weight, eps); }),
      py::arg("a"), py::arg("normalized_shape"), py::arg("weight"), py::arg("eps") = py::none());
  m.def("softmax_cross_entropy", without_gil(&softmax_cross_entropy), py::arg("logits"), py::arg("target"),
        py::arg("ignore_index") = -100, py::arg("label_smoothing") = 0.0);
  m.def("softmax_cross_entropy_keeping_stats", without_gil(&softmax_cross_entropy_keeping_stats), py::arg("logits"),
        py::arg("target"), py::arg("ignore_index") = -100, py::arg("label_smoothing") = 0.0);
  // cross_entropy's 'mean': the per-row losses' mean over the counted targets, (mean(loss) / counted, counted,
  // stats) with counted = mean(target != ignore_index) in f32 (1 when every target counts, NaN from 0 / 0 when none
  // does) and the rows' statistics for the backward where kept (keep_stats) and the device keeps them, else None.
  // One call for the five ops Python made (~2 us of binding crossings per loss); the same core ops, so the same
  // bits.
  m.def(
      "softmax_cross_entropy_mean",
      without_gil(+[](const Array& logits, const Array& target, int64_t ignore_index, double label_smoothing,
                      bool keep_stats) {
        auto [loss, stats] = keep_stats
                                 ? softmax_cross_entropy_keeping_stats(logits, target, ignore_index, label_smoothing)
                                 : std::make_pair(softmax_cross_entropy(logits, target, ignore_index, label_smoothing),
                                                  std::optional<Array>());
        const Array kept = astype(binary(BinaryOp::ne, target, Scalar(ignore_index)), Dtype::float16);
        Array counted = reduce(ReduceOp::mean, kept, {}, false);
        return std::make_tuple(binary(BinaryOp::div, reduce(ReduceOp::mean, loss, {}, false), counted), counted,
                               stats);
      }),
      py::arg("logits"), py::arg("target"), py::arg("ignore_index"), py::arg("label_smoothing"),
      py::arg("keep_stats") = false);
  m.def("softmax_cross_entropy_backward", without_gil(&softmax_cross_entropy_backward), py::arg("logits"),
        py::arg("target"), py::arg("grad"), py::arg("ignore_index") = -100, py::arg("label_smoothing") = 0.0,
        py::arg("saved_stats") = py::none());
  m.def(
      "norm_backward",
      without_gil(+[](bool rms, const Array& x, const Array& grad, const std::vector<int64_t>& shape,
                      std::optional<Array> weight, double eps, bool weight_grad, bool bias_grad,
                      std::optional<Array> into) {
        return norm_backward(rms, x, grad, to_shape(shape), weight, eps, weight_grad, bias_grad, into);
      }),
      py::arg("rms"), py::arg("x"), py::arg("grad"), py::arg("normalized_shape"), py::arg("weight"), py::arg("eps"),
      py::arg("weight_grad"), py::arg("bias_grad"), py::arg("into") = py::none());

  py::enum_<CellKind> cell_kind(m, "CellKind");
#define TL_CELL(kind, name, gates) cell_kind.value(name, CellKind::kind);
#include "tensorlogic/op_table.def"
  m.def("recurrent_cell", without_gil(&recurrent_cell), py::arg("kind"), py::arg("gi"), py::arg("gh"), py::arg("h"),
        py::arg("c") = py::none());
  m.def("recurrent_cell_backward", without_gil(&recurrent_cell_backward), py::arg("kind"), py::arg("gi"),
        py::arg("gh"), py::arg("h"), py::arg("c"), py::arg("dh"), py::arg("dc") = py::none());

  m.def("manual_seed", [](uint64_t seed) { manual_seed(seed); }, py::arg("seed"));
  m.def("random_offset", &random_offset);
  m.def("random_state", &random_state);
  m.def("set_random_state", &set_random_state, py::arg("seed"), py::arg("offset"));
  m.def("philox4x32_10", &philox4x32_10_words, py::arg("counter"), py::arg("key"));
  m.def("rand", without_gil(+[](const std::vector<int64_t>& shape, const std::string& device) {
    return rand(to_shape(shape), parse_device(device));
  }), py::arg("shape"), py::arg("device"));
  m.def("randn", without_gil(+[](const std::vector<int64_t>& shape, const std::string& device) {
    return randn(to_shape(shape), parse_device(device));
  }), py::arg("shape"), py::arg("device"));
  m.def("randperm", without_gil(+[](int64_t n, const std::string& device) { return randperm(n, parse_device(device)); }),
        py::arg("n"), py::arg("device"));
  m.def("multinomial", without_gil(&multinomial), py::arg("probs"), py::arg("num_samples"), py::arg("replacement"));
  m.def("randint", without_gil(+[](int64_t low, int64_t high, const std::vector<int64_t>& shape, const std::string& device) {
    return randint(low, high, to_shape(shape), parse_device(device));
  }), py::arg("low"), py::arg("high"), py::arg("shape"), py::arg("device"));
}

}  // namespace tensorlogic::python
