// Joining and indexing ops: cat, stack, pad, gather, scatter_add, index_select, embedding (and its
// backward), advanced indexing (index, index_put_). Large ones run without the GIL (gil.h).
#include "bindings.h"

namespace tensorlogic::python {

void bind_indexing(py::module_& m) {
  m.def("cat", without_gil(&cat), py::arg("arrays"), py::arg("dim") = 0);
  m.def("stack", without_gil(&stack), py::arg("arrays"), py::arg("dim") = 0);
  m.def("pad", without_gil(&pad), py::arg("a"), py::arg("pads"), py::arg("mode") = "constant", py::arg("value") = 0.0);
  m.def("gather", without_gil(&gather), py::arg("a"), py::arg("dim"), py::arg("index"));
  m.def("scatter_add", without_gil(&scatter_add), py::arg("a"), py::arg("dim"), py::arg("index"), py::arg("src"));
  m.def("scatter", without_gil(&scatter), py::arg("a"), py::arg("dim"), py::arg("index"), py::arg("src"));
  m.def("index_select", without_gil(&index_select), py::arg("a"), py::arg("dim"), py::arg("index"));
  m.def("embedding", without_gil(&embedding), py::arg("weight"), py::arg("index"));
  m.def("embedding_backward", without_gil(&embedding_backward), py::arg("grad"), py::arg("index"),
        py::arg("num_weights"));
  // indices: one entry per leading dim, an int32 Array or None (that dim is kept whole).
  m.def("index", without_gil(&index), py::arg("a"), py::arg("indices"));
  m.def("index_put_", without_gil(&index_put_), py::arg("a"), py::arg("indices"), py::arg("values"), py::arg("accumulate") = false);
}

}  // namespace tensorlogic::python
