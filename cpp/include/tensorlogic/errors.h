// Typed errors of SPEC §6. The Python bindings map each to the matching Python exception class.
#pragma once
#include <stdexcept>
#include <string>

namespace tensorlogic {

struct ShapeMismatchError : std::invalid_argument { using std::invalid_argument::invalid_argument; };
struct EinsumError : std::invalid_argument { using std::invalid_argument::invalid_argument; };
struct PrecisionOverflowError : std::overflow_error { using std::overflow_error::overflow_error; };
struct DeviceError : std::runtime_error { using std::runtime_error::runtime_error; };
struct OutOfMemoryError : std::runtime_error { using std::runtime_error::runtime_error; };
// An in-place write into a tensor whose elements share memory (Python RuntimeError, as in PyTorch).
struct InternalOverlapError : std::runtime_error { using std::runtime_error::runtime_error; };
// Wrong argument type or dtype (Python TypeError) and bad values/indices (ValueError/IndexError).
struct DtypeError : std::invalid_argument { using std::invalid_argument::invalid_argument; };
struct ArgumentError : std::invalid_argument { using std::invalid_argument::invalid_argument; };
struct IndexOutOfRange : std::out_of_range { using std::out_of_range::out_of_range; };

}  // namespace tensorlogic
