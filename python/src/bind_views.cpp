// View ops (no copies), splitting and broadcasting helpers.
#include "bindings.h"

namespace tensorlogic::python {

void bind_views(py::module_& m) {
  m.def("reshape", [](const Array& a, const std::vector<int64_t>& s) { return reshape(a, to_shape(s)); });
  m.def("view", [](const Array& a, const std::vector<int64_t>& s) { return view(a, to_shape(s)); });
  m.def("permute", &permute);
  m.def("transpose", &transpose);
  m.def("squeeze", [](const Array& a, std::optional<std::vector<int>> dims) { return squeeze(a, dims); });
  m.def("unsqueeze", &unsqueeze);
  m.def("expand", [](const Array& a, const std::vector<int64_t>& s) { return expand(a, to_shape(s)); });
  m.def("broadcast_to", [](const Array& a, const std::vector<int64_t>& s) { return broadcast_to(a, to_shape(s)); });
  m.def("flatten", &flatten);
  m.def("slice", &slice);
  m.def("select", &select);
  m.def("diagonal", &diagonal);
  m.def("unfold", &unfold);
  // Any view of a's storage (Tensor.as_strided; its bounds and arguments checked in Python, PyTorch's errors): the
  // Array constructor refuses one outside the storage.
  m.def("as_strided", [](const Array& a, const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                         int64_t offset) { return a.view_as(shape, strides, offset); });
  m.def("split", &split);
  m.def("chunk", &chunk);
  m.def("join_adjacent", &join_adjacent, py::arg("parts"), py::arg("dim"));
  m.def("broadcast_shapes", [](const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
    return to_tuple(broadcast_shapes(to_shape(a), to_shape(b), "broadcast_shapes"));
  });
}

}  // namespace tensorlogic::python
