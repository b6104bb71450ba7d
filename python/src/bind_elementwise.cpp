// Elementwise kernel families: ops are named by enums so one binding serves each family. Large ones
// run without the GIL (gil.h).
#include "bindings.h"

namespace tensorlogic::python {

void bind_elementwise(py::module_& m) {
  py::enum_<UnaryOp> unary_op(m, "UnaryOp");
  for (int i = 0; i <= static_cast<int>(UnaryOp::logical_not); ++i) {
    const auto op = static_cast<UnaryOp>(i);
    std::string name = unary_name(op);
    if (op == UnaryOp::rpow_scalar) name = "rpow";
    unary_op.value(name.c_str(), op);
  }
  py::enum_<BinaryOp> binary_op(m, "BinaryOp");
  for (int i = 0; i <= static_cast<int>(BinaryOp::logical_or); ++i) {
    binary_op.value(binary_name(static_cast<BinaryOp>(i)), static_cast<BinaryOp>(i));
  }

  m.def("unary", without_gil(+[](UnaryOp op, const Array& a, float p0, float p1) { return unary(op, a, UnaryParams{p0, p1}); }),
        py::arg("op"), py::arg("a"), py::arg("p0") = 0.0f, py::arg("p1") = 0.0f);
  m.def("unary_", without_gil(+[](UnaryOp op, const Array& a, float p0, float p1) { unary_(op, a, UnaryParams{p0, p1}); }),
        py::arg("op"), py::arg("a"), py::arg("p0") = 0.0f, py::arg("p1") = 0.0f);
  m.def("binary", without_gil(py::overload_cast<BinaryOp, const Array&, const Array&>(&binary)));
  m.def("binary_scalar", without_gil(py::overload_cast<BinaryOp, const Array&, double>(&binary)));
  m.def("rbinary_scalar", without_gil(+[](BinaryOp op, double a, const Array& b) { return binary(op, a, b); }));
  m.def("binary_", without_gil(py::overload_cast<BinaryOp, const Array&, const Array&>(&binary_)));
  m.def("binary_scalar_", without_gil(py::overload_cast<BinaryOp, const Array&, double>(&binary_)));
  m.def("where", without_gil(&where));
  m.def("affine", without_gil(+[](const Array& a, const Array& b, const Array& c) {
    return ternary(TernaryOp::affine, a, b, c);
  }));
  m.def("clamp", without_gil(&clamp));
}

}  // namespace tensorlogic::python
