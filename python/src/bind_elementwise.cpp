// Elementwise kernel families: ops are named by enums so one binding serves each family. Large ones
// run without the GIL (gil.h).
#include "bindings.h"

namespace tensorlogic::python {

void bind_elementwise(py::module_& m) {
  py::enum_<UnaryOp> unary_op(m, "UnaryOp");
#define TL_UNARY(op, name, python_name, keeps_int) unary_op.value(python_name, UnaryOp::op);
#include "tensorlogic/op_table.def"
  py::enum_<BinaryOp> binary_op(m, "BinaryOp");
#define TL_BINARY(op, keeps_int, compares) binary_op.value(#op, BinaryOp::op);
#include "tensorlogic/op_table.def"

  m.def("unary", without_gil(+[](UnaryOp op, const Array& a, float p0, float p1) { return unary(op, a, UnaryParams{p0, p1}); }),
        py::arg("op"), py::arg("a"), py::arg("p0") = 0.0f, py::arg("p1") = 0.0f);
  m.def("unary_", without_gil(+[](UnaryOp op, const Array& a, float p0, float p1) { unary_(op, a, UnaryParams{p0, p1}); }),
        py::arg("op"), py::arg("a"), py::arg("p0") = 0.0f, py::arg("p1") = 0.0f);
  m.def("binary", without_gil(py::overload_cast<BinaryOp, const Array&, const Array&>(&binary)));
  m.def("binary_scalar", without_gil(py::overload_cast<BinaryOp, const Array&, Scalar>(&binary)));
  m.def("rbinary_scalar", without_gil(py::overload_cast<BinaryOp, Scalar, const Array&>(&binary)));
  m.def("binary_", without_gil(py::overload_cast<BinaryOp, const Array&, const Array&>(&binary_)));
  m.def("binary_scalar_", without_gil(py::overload_cast<BinaryOp, const Array&, Scalar>(&binary_)));
  m.def("activation_backward_column_sums", without_gil(&activation_backward_column_sums), py::arg("op"),
        py::arg("grad"), py::arg("x"));
  // where's values: arrays or numbers (a number is never an Array, so the first overload that loads is right)
  m.def("where", without_gil(py::overload_cast<const Array&, const Array&, const Array&>(&where)));
  m.def("where", without_gil(py::overload_cast<const Array&, const Array&, Scalar>(&where)));
  m.def("where", without_gil(py::overload_cast<const Array&, Scalar, const Array&>(&where)));
  m.def("where", without_gil(py::overload_cast<const Array&, Scalar, Scalar>(&where)));
  m.def("affine", without_gil(+[](const Array& a, const Array& b, const Array& c) {
    return ternary(TernaryOp::affine, a, b, c);
  }));
  m.def("clamp", without_gil(&clamp));
  m.def("clamp_", without_gil(&clamp_));
  // the promotion rules themselves, for ops composed in Python and torch.result_type & co.
  m.def("result_type", [](const std::vector<Array>& tensors, const std::vector<Scalar>& numbers) {
    return dtype_name(result_type(tensors, numbers));
  });
  m.def("promote_types", [](const std::string& a, const std::string& b) {
    return dtype_name(promote_types(parse_dtype(a), parse_dtype(b)));
  });
  m.def("can_cast", [](const std::string& from, const std::string& to) {
    return can_cast(parse_dtype(from), parse_dtype(to));
  });
}

}  // namespace tensorlogic::python
