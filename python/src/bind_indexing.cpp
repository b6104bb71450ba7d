// Joining and indexing ops: cat, stack, pad, gather, scatter_add, index_select, embedding, advanced
// indexing (index, index_put_).
#include "bindings.h"

namespace tensorlogic::python {

void bind_indexing(py::module_& m) {
  m.def("cat", &cat, py::arg("arrays"), py::arg("dim") = 0);
  m.def("stack", &stack, py::arg("arrays"), py::arg("dim") = 0);
  m.def("pad", &pad, py::arg("a"), py::arg("pads"), py::arg("mode") = "constant", py::arg("value") = 0.0);
  m.def("gather", &gather, py::arg("a"), py::arg("dim"), py::arg("index"));
  m.def("scatter_add", &scatter_add, py::arg("a"), py::arg("dim"), py::arg("index"), py::arg("src"));
  m.def("index_select", &index_select, py::arg("a"), py::arg("dim"), py::arg("index"));
  m.def("embedding", &embedding, py::arg("weight"), py::arg("index"));
  // indices: one entry per leading dim, an int32 Array or None (that dim is kept whole).
  m.def("index", &index, py::arg("a"), py::arg("indices"));
  m.def("index_put_", &index_put_, py::arg("a"), py::arg("indices"), py::arg("values"), py::arg("accumulate") = false);
}

}  // namespace tensorlogic::python
