// Fused optimizer steps: one native call per parameter (tensorlogic.optim drives them); large ones run
// without the GIL (gil.h).
#include "bindings.h"

namespace tensorlogic::python {

void bind_optim(py::module_& m) {
  py::enum_<OptimizerKind> kind(m, "OptimizerKind");
#define TL_OPTIMIZER(k, name) kind.value(#k, OptimizerKind::k);
#include "tensorlogic/op_table.def"
  py::class_<OptimizerParams>(m, "OptimizerParams")
      .def(py::init<>())
      .def_readwrite("lr", &OptimizerParams::lr)
      .def_readwrite("weight_decay", &OptimizerParams::weight_decay)
      .def_readwrite("momentum", &OptimizerParams::momentum)
      .def_readwrite("dampening", &OptimizerParams::dampening)
      .def_readwrite("nesterov", &OptimizerParams::nesterov)
      .def_readwrite("maximize", &OptimizerParams::maximize)
      .def_readwrite("beta1", &OptimizerParams::beta1)
      .def_readwrite("beta2", &OptimizerParams::beta2)
      .def_readwrite("eps", &OptimizerParams::eps)
      .def_readwrite("amsgrad", &OptimizerParams::amsgrad)
      .def_readwrite("alpha", &OptimizerParams::alpha)
      .def_readwrite("centered", &OptimizerParams::centered)
      .def_readwrite("step", &OptimizerParams::step)
      .def_readwrite("grad_scale", &OptimizerParams::grad_scale);
  m.def("optimizer_state_slots", &optimizer_state_slots);
  m.def("optimizer_step", without_gil(&optimizer_step), py::arg("kind"), py::arg("params"), py::arg("param"), py::arg("grad"),
        py::arg("state"));
}

}  // namespace tensorlogic::python
