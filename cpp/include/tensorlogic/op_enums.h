// The kernel-family op enums and their int32 rules, generated from op_table.def. Written in the subset of
// C++ that CUDA and the Metal Shading Language also accept: metal/common.h includes this header, so the
// Metal kernels' op codes are these enums.
#pragma once

#if defined(__METAL_VERSION__)
#define TL_OP_FN inline
#elif defined(__CUDACC__)
#define TL_OP_FN __host__ __device__ constexpr
#else
#define TL_OP_FN constexpr
#endif

namespace tensorlogic {

enum class UnaryOp : unsigned char {
#define TL_UNARY(op, name, python_name, keeps_int) op,
#include "tensorlogic/op_table.def"
};
enum class BinaryOp : unsigned char {
#define TL_BINARY(op, keeps_int, compares) op,
#include "tensorlogic/op_table.def"
};
enum class TernaryOp : unsigned char {
#define TL_TERNARY(op) op,
#include "tensorlogic/op_table.def"
};
enum class ReduceOp : unsigned char {
#define TL_REDUCE(op) op,
#include "tensorlogic/op_table.def"
};
enum class RowOp : unsigned char {
#define TL_ROW(op) op,
#include "tensorlogic/op_table.def"
};
enum class Activation : unsigned char {
#define TL_ACTIVATION(op) op,
#include "tensorlogic/op_table.def"
};
enum class OptimizerKind : unsigned char {
#define TL_OPTIMIZER(kind, name) kind,
#include "tensorlogic/op_table.def"
};
enum class CellKind : unsigned char {
#define TL_CELL(kind, name, gates) kind,
#include "tensorlogic/op_table.def"
};
enum class QuantType : unsigned char {
#define TL_QUANT(type, name, block_elems, block_bytes) type,
#include "tensorlogic/op_table.def"
};

// Blocks of hidden_size in a recurrent cell's gate projection.
TL_OP_FN int cell_gates(CellKind kind) {
  switch (kind) {
#define TL_CELL(kind, name, gates) case CellKind::kind: return gates;
#include "tensorlogic/op_table.def"
  }
  return 1;
}

// Weights per block and bytes per block of a quantised format.
TL_OP_FN int quant_block_elems(QuantType type) {
  switch (type) {
#define TL_QUANT(type, name, block_elems, block_bytes) case QuantType::type: return block_elems;
#include "tensorlogic/op_table.def"
  }
  return 1;
}
TL_OP_FN int quant_block_bytes(QuantType type) {
  switch (type) {
#define TL_QUANT(type, name, block_elems, block_bytes) case QuantType::type: return block_bytes;
#include "tensorlogic/op_table.def"
  }
  return 1;
}

// Ops that keep int32 inputs in int32 (every other op computes in float16).
TL_OP_FN bool unary_keeps_int(UnaryOp op) {
  switch (op) {
#define TL_UNARY(op, name, python_name, keeps_int) case UnaryOp::op: return keeps_int != 0;
#include "tensorlogic/op_table.def"
  }
  return false;
}
TL_OP_FN bool binary_keeps_int(BinaryOp op) {
  switch (op) {
#define TL_BINARY(op, keeps_int, compares) case BinaryOp::op: return keeps_int != 0;
#include "tensorlogic/op_table.def"
  }
  return false;
}
// Comparisons give f16 0/1 masks, comparing int32 operands as int32.
TL_OP_FN bool is_comparison(BinaryOp op) {
  switch (op) {
#define TL_BINARY(op, keeps_int, compares) case BinaryOp::op: return compares != 0;
#include "tensorlogic/op_table.def"
  }
  return false;
}

#if !defined(__METAL_VERSION__)  // MSL allows program-scope variables only in the constant address space
#define TL_COUNT(...) +1
constexpr int kUnaryOpCount = 0
#define TL_UNARY TL_COUNT
#include "tensorlogic/op_table.def"
    ;
constexpr int kBinaryOpCount = 0
#define TL_BINARY TL_COUNT
#include "tensorlogic/op_table.def"
    ;
constexpr int kTernaryOpCount = 0
#define TL_TERNARY TL_COUNT
#include "tensorlogic/op_table.def"
    ;
constexpr int kReduceOpCount = 0
#define TL_REDUCE TL_COUNT
#include "tensorlogic/op_table.def"
    ;
constexpr int kActivationCount = 0
#define TL_ACTIVATION TL_COUNT
#include "tensorlogic/op_table.def"
    ;
#undef TL_COUNT
#endif

}  // namespace tensorlogic
