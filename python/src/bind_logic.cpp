// The language's tuple engine in native code (tensorlogic/logic.h): relations and join tables cross as
// int64 numpy arrays (not copied); the fixpoint runs without the GIL.
#include <pybind11/numpy.h>

#include "bindings.h"
#include "tensorlogic/logic.h"

namespace tensorlogic::python {
namespace {

using Rows = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

Rows table(const py::handle& obj, const char* what) {
  Rows rows = Rows::ensure(obj);
  if (!rows || rows.ndim() != 2) throw ArgumentError(std::string("linear_fixpoint: ") + what + " is a 2-d int64 array");
  return rows;
}

// relations: [(rows [n, arity], lows, sizes)]; rules: [(source, target, consts [(p, v)], equal [(p, q)],
// key [p], join [m, width], head [(kind, value)])]. Returns (the tuples each relation gained, the
// rounds run, how it stopped: "converged", "round_limit" or "time_limit").
py::tuple linear_fixpoint(const py::list& relations, const py::list& rules, int64_t max_rounds, double seconds) {
  std::vector<Rows> keep;  // the arrays the native structs point into
  std::vector<logic::Relation> rels;
  for (const py::handle& item : relations) {
    const auto t = item.cast<py::tuple>();
    Rows rows = table(t[0], "a relation's rows");
    logic::Relation rel;
    rel.lows = t[1].cast<std::vector<int64_t>>();
    rel.sizes = t[2].cast<std::vector<int64_t>>();
    if (rows.shape(1) != static_cast<py::ssize_t>(rel.sizes.size()))
      throw ArgumentError("linear_fixpoint: a relation's rows and sizes differ in arity");
    rel.rows = rows.data();
    rel.count = rows.shape(0);
    rels.push_back(std::move(rel));
    keep.push_back(std::move(rows));
  }
  std::vector<logic::LinearRule> lin;
  for (const py::handle& item : rules) {
    const auto t = item.cast<py::tuple>();
    logic::LinearRule rule;
    rule.source = t[0].cast<int>();
    rule.target = t[1].cast<int>();
    rule.consts = t[2].cast<std::vector<std::pair<int, int64_t>>>();
    rule.equal = t[3].cast<std::vector<std::pair<int, int>>>();
    rule.key = t[4].cast<std::vector<int>>();
    Rows join = table(t[5], "a join table");
    rule.join = join.data();
    rule.join_rows = join.shape(0);
    rule.join_width = static_cast<int>(join.shape(1));
    rule.head = t[6].cast<std::vector<std::pair<int, int64_t>>>();
    lin.push_back(std::move(rule));
    keep.push_back(std::move(join));
  }
  logic::FixpointResult result;
  {
    const py::gil_scoped_release gil;
    result = logic::linear_fixpoint(rels, lin, max_rounds, seconds);
  }
  py::list added;
  for (size_t i = 0; i < rels.size(); ++i) {
    const auto arity = static_cast<py::ssize_t>(rels[i].sizes.size());
    const auto& flat = result.added[i];
    Rows rows({static_cast<py::ssize_t>(flat.size()) / arity, arity});
    std::copy(flat.begin(), flat.end(), rows.mutable_data());
    added.append(std::move(rows));
  }
  const char* stop = result.stop == logic::FixpointStop::converged     ? "converged"
                     : result.stop == logic::FixpointStop::round_limit ? "round_limit"
                                                                       : "time_limit";
  return py::make_tuple(added, result.rounds, stop);
}

}  // namespace

void bind_logic(py::module_& m) {
  m.def("linear_fixpoint", &linear_fixpoint, py::arg("relations"), py::arg("rules"), py::arg("max_rounds"),
        py::arg("seconds"));
}

}  // namespace tensorlogic::python
