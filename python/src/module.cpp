// tensorlogic._core: the pybind11 module. Native errors become the typed Python exceptions of
// tensorlogic.errors (SPEC §6).
#include "bindings.h"

namespace tensorlogic::python {

Dtype parse_dtype(const std::string& name) {
  if (name == "float16") return Dtype::float16;
  if (name == "int32") return Dtype::int32;
  if (name == "int64") return Dtype::int64;
  if (name == "bool") return Dtype::bool_;
  throw DtypeError("unsupported dtype '" + name + "': TensorLogic has float16, int32, int64 and bool");
}

namespace {

// Native messages may quote user text (an einsum equation, a device name): bytes that are not valid
// UTF-8 are replaced, so the error is never a UnicodeDecodeError of its own.
void set_error(PyObject* type, const std::exception& e) {
  const std::string what = e.what();
  PyObject* message = PyUnicode_DecodeUTF8(what.data(), static_cast<Py_ssize_t>(what.size()), "replace");
  if (message == nullptr) return;  // the decoder's own error (out of memory) is already set
  PyErr_SetObject(type, message);
  Py_DECREF(message);
}

}  // namespace
}  // namespace tensorlogic::python

PYBIND11_MODULE(_core, m) {
  using namespace tensorlogic;
  using namespace tensorlogic::python;
  m.doc() = "TensorLogic native core";

  py::module_ errors = py::module_::import("tensorlogic.errors");
  static py::object shape_error = errors.attr("ShapeMismatchError");
  static py::object einsum_error = errors.attr("EinsumError");
  static py::object overflow_error = errors.attr("PrecisionOverflowError");
  static py::object device_error = errors.attr("DeviceError");
  static py::object memory_error = errors.attr("OutOfMemoryError");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ShapeMismatchError& e) {
      set_error(shape_error.ptr(), e);
    } catch (const EinsumError& e) {
      set_error(einsum_error.ptr(), e);
    } catch (const PrecisionOverflowError& e) {
      set_error(overflow_error.ptr(), e);
    } catch (const DeviceError& e) {
      set_error(device_error.ptr(), e);
    } catch (const OutOfMemoryError& e) {
      set_error(memory_error.ptr(), e);
    } catch (const InternalOverlapError& e) {
      set_error(PyExc_RuntimeError, e);
    } catch (const DtypeError& e) {
      set_error(PyExc_TypeError, e);
    } catch (const ArgumentError& e) {
      set_error(PyExc_ValueError, e);
    } catch (const IndexOutOfRange& e) {
      set_error(PyExc_IndexError, e);
    } catch (const py::builtin_exception&) {  // pybind11's own errors go to its translator
      throw;
    } catch (const py::error_already_set&) {
      throw;
    } catch (const std::bad_alloc& e) {  // a host vector too large for the machine
      set_error(PyExc_MemoryError, e);
    } catch (const std::length_error& e) {
      set_error(PyExc_MemoryError, e);
    } catch (const std::out_of_range& e) {
      set_error(PyExc_IndexError, e);
    } catch (const std::overflow_error& e) {
      set_error(PyExc_OverflowError, e);
    } catch (const std::invalid_argument& e) {
      set_error(PyExc_ValueError, e);
    } catch (const std::exception& e) {
      set_error(PyExc_RuntimeError, e);
    }
  });

#define TL_BIND(area) bind_##area(m);
  TL_BINDING_AREAS(TL_BIND)
#undef TL_BIND
  check_instance_allocation(m);
}
