// Recurrent cell steps (RNN, LSTM, GRU): the shape and dtype checks once, then the backend's fused
// recurrent-cell family (cpp/kernels/recurrent.h), or nullopt where a backend has none.
#include <string>

#include "backend.h"
#include "shape_util.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {
namespace {

const char* cell_name(CellKind kind) {
  static const char* const names[] = {
#define TL_CELL(kind, name, gates) name,
#include "tensorlogic/op_table.def"
  };
  return checked_name(names, static_cast<unsigned>(kind), "recurrent cell kind");
}

void check_f16(const std::string& op, const char* what, const Array& a) {
  if (a.dtype() != Dtype::float16) {
    throw DtypeError(op + ": " + what + " must be float16, got " + dtype_name(a.dtype()));
  }
}

void check_shape(const std::string& op, const char* what, const Array& a, const Shape& want) {
  check_f16(op, what, a);
  if (a.shape() != want) {
    throw ShapeMismatchError(op + ": " + what + " must have shape " + shape_str(want) + ", got " +
                             shape_str(a.shape()));
  }
}

// The checks both directions share; returns the state's shape [N, H].
Shape check_step(const std::string& op, CellKind kind, const Array& gi, const Array& gh, const Array& h,
                 const std::optional<Array>& c) {
  check_f16(op, "gi", gi);
  if (h.ndim() != 2) throw ShapeMismatchError(op + ": the state h must be [batch, hidden], got " + shape_str(h.shape()));
  const Shape state = h.shape();
  check_f16(op, "h", h);
  const Shape gates{state[0], cell_gates(kind) * state[1]};
  check_shape(op, "gi", gi, gates);
  check_shape(op, "gh", gh, gates);
  if (c.has_value() != (kind == CellKind::lstm)) {
    throw ArgumentError(op + (kind == CellKind::lstm ? ": the LSTM needs its cell state c"
                                                     : ": only the LSTM has a cell state c"));
  }
  if (c) check_shape(op, "c", *c, state);
  return state;
}

}  // namespace

std::optional<std::vector<Array>> recurrent_cell(CellKind kind, const Array& gi_in, const Array& gh_in,
                                                 const Array& h_in, const std::optional<Array>& c_in) {
  const std::string op = std::string(cell_name(kind)) + " cell";
  Backend& backend = backend_of(op.c_str(), {&gi_in, &gh_in, &h_in, c_in ? &*c_in : nullptr});
  const Shape state = check_step(op, kind, gi_in, gh_in, h_in, c_in);
  const Array gi = contiguous(gi_in), gh = contiguous(gh_in), h = contiguous(h_in);
  std::optional<Array> c;
  if (c_in) c = contiguous(*c_in);
  std::vector<Array> out{Array::empty(state, Dtype::float16, h.device())};
  if (c) out.push_back(Array::empty(state, Dtype::float16, h.device()));
  if (!backend.recurrent_cell(kind, gi, gh, h, c ? &*c : nullptr, out[0], c ? &out[1] : nullptr)) return std::nullopt;
  return out;
}

std::optional<std::vector<Array>> recurrent_cell_backward(CellKind kind, const Array& gi_in, const Array& gh_in,
                                                          const Array& h_in, const std::optional<Array>& c_in,
                                                          const Array& dh_in, const std::optional<Array>& dc_in) {
  const std::string op = std::string(cell_name(kind)) + " cell backward";
  Backend& backend = backend_of(op.c_str(), {&gi_in, &gh_in, &h_in, c_in ? &*c_in : nullptr, &dh_in,
                                             dc_in ? &*dc_in : nullptr});
  const Shape state = check_step(op, kind, gi_in, gh_in, h_in, c_in);
  check_shape(op, "dh", dh_in, state);
  if (dc_in && kind != CellKind::lstm) throw ArgumentError(op + ": only the LSTM has a cell state gradient dc");
  if (dc_in) check_shape(op, "dc", *dc_in, state);
  const Array gi = contiguous(gi_in), gh = contiguous(gh_in), h = contiguous(h_in), dh = contiguous(dh_in);
  std::optional<Array> c, dc;
  if (c_in) c = contiguous(*c_in);
  if (dc_in) dc = contiguous(*dc_in);
  const Device device = h.device();
  const Array dgi = Array::empty(gi.shape(), Dtype::float16, device);
  std::vector<Array> grads{dgi, dgi, Array(), Array()};
  if (kind == CellKind::gru) {
    grads[1] = Array::empty(gi.shape(), Dtype::float16, device);
    grads[2] = Array::empty(state, Dtype::float16, device);
  }
  if (kind == CellKind::lstm) grads[3] = Array::empty(state, Dtype::float16, device);
  const Backend::CellGradArrays out{kind == CellKind::gru ? &grads[1] : nullptr,
                                    grads[2].defined() ? &grads[2] : nullptr, grads[3].defined() ? &grads[3] : nullptr};
  if (!backend.recurrent_cell_backward(kind, gi, gh, h, c ? &*c : nullptr, dh, dc ? &*dc : nullptr, dgi, out)) {
    return std::nullopt;
  }
  return grads;
}

}  // namespace tensorlogic
