// Fused optimizer steps: one native call per parameter, or one for a list of them (tensorlogic.optim passes
// each group's parameters at once); large ones run without the GIL (gil.h).
#include <utility>

#include "bindings.h"

namespace tensorlogic::python {

void bind_optim(py::module_& m) {
  py::enum_<OptimizerKind> kind(m, "OptimizerKind");
#define TL_OPTIMIZER(k, name) kind.value(#k, OptimizerKind::k);
#include "tensorlogic/op_table.def"
  using P = OptimizerParams;
  py::class_<P> params(m, "OptimizerParams");
  params.def(py::init<>());
  // torch.optim's hyperparameter names, as the fields of OptimizerParams.
  const std::pair<const char*, double P::*> reals[] = {
      {"lr", &P::lr},       {"weight_decay", &P::weight_decay}, {"momentum", &P::momentum}, {"dampening", &P::dampening},
      {"beta1", &P::beta1}, {"beta2", &P::beta2},               {"eps", &P::eps},           {"alpha", &P::alpha},
      {"grad_scale", &P::grad_scale}};
  const std::pair<const char*, bool P::*> flags[] = {
      {"nesterov", &P::nesterov}, {"maximize", &P::maximize}, {"amsgrad", &P::amsgrad}, {"centered", &P::centered}};
  for (const auto& [name, field] : reals) params.def_readwrite(name, field);
  for (const auto& [name, field] : flags) params.def_readwrite(name, field);
  params.def_readwrite("step", &P::step);
  m.def("optimizer_state_slots", &optimizer_state_slots);
  using One = void (*)(OptimizerKind, const P&, const Array&, const Array&, const std::vector<Array>&);
  using Many = void (*)(OptimizerKind, const P&, const std::vector<Array>&, const std::vector<Array>&,
                        const std::vector<std::vector<Array>>&);
  m.def("optimizer_step", without_gil(static_cast<One>(&optimizer_step)), py::arg("kind"), py::arg("params"),
        py::arg("param"), py::arg("grad"), py::arg("state"));
  m.def("optimizer_step", without_gil(static_cast<Many>(&optimizer_step)), py::arg("kind"), py::arg("params"),
        py::arg("parameters"), py::arg("grads"), py::arg("states"));
  m.def("check_finite_and_unscale", without_gil(&check_finite_and_unscale), py::arg("arrays"),
        py::arg("inv_scale") = 1.0);
}

}  // namespace tensorlogic::python
