// Fused optimizer steps: one native call per parameter, or one for a list of them (tensorlogic.optim passes
// each group's parameters at once); large ones run without the GIL (gil.h).
#include <optional>
#include <string>
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
  // The step under a loss scaler (tensorlogic.amp): device step counts and flags, None where absent.
  auto scaled = [](OptimizerKind kind, const P& params, const std::vector<Array>& parameters,
                   const std::vector<Array>& grads, const std::vector<std::vector<Array>>& states,
                   const std::vector<Array>& steps, const std::optional<Array>& found_inf,
                   const std::optional<Array>& inv_scale) {
    optimizer_step(kind, params, parameters, grads, states, steps,
                   {found_inf.value_or(Array()), inv_scale.value_or(Array())});
  };
  m.def("optimizer_step", without_gil(+scaled), py::arg("kind"), py::arg("params"), py::arg("parameters"),
        py::arg("grads"), py::arg("states"), py::arg("steps"), py::arg("found_inf"), py::arg("inv_scale"));
  m.def("check_finite_and_unscale", without_gil(&check_finite_and_unscale), py::arg("arrays"),
        py::arg("inv_scale") = 1.0);
  py::class_<LossScale>(m, "LossScale")
      .def(py::init([](double scale, int64_t growth_tracker, const std::string& device) {
             return make_loss_scale(scale, growth_tracker, parse_device(device));
           }),
           py::arg("scale"), py::arg("growth_tracker"), py::arg("device"))
      .def_readonly("scale", &LossScale::scale)
      .def_readonly("inv_scale", &LossScale::inv_scale)
      .def_readonly("scale_f16", &LossScale::scale_f16)
      .def_readonly("growth_tracker", &LossScale::growth_tracker)
      .def("set_scale", &set_loss_scale, py::arg("scale"));
  m.def("amp_non_finite_check_and_unscale",
        without_gil(+[](const std::vector<Array>& arrays, const Array& found_inf,
                        const std::optional<Array>& inv_scale) {
          amp_non_finite_check_and_unscale(arrays, found_inf, inv_scale.value_or(Array()));
        }),
        py::arg("arrays"), py::arg("found_inf"), py::arg("inv_scale") = py::none());
  m.def("amp_update_scale", without_gil(&amp_update_scale), py::arg("loss_scale"), py::arg("found_inf"),
        py::arg("growth_factor"), py::arg("backoff_factor"), py::arg("growth_interval"));
}

}  // namespace tensorlogic::python
