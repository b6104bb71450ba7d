// Argument blocks shared by the Metal kernels and the host (objc/): plain C layouts of int, long (64-bit
// on both sides) and float, so the same header compiles as MSL and as C++.
#pragma once
#define TL_MAX_DIMS 8

// Elementwise, copy and tri kernels: operands 0..2 are inputs, 3 the output (strides in elements).
struct ElementwiseParams {
  long numel;
  int ndim;
  int pad0;
  long shape[TL_MAX_DIMS];
  long strides[4][TL_MAX_DIMS];
  float scalar_a, scalar_b;  // the value of a scalar operand (float compute)
  int iscalar_a, iscalar_b;  // the value of a scalar operand (int32 compute)
  float pa, pb;              // UnaryParams a, b; fill: pa is the value
  long k;                    // tri: the diagonal
};

// Reductions and the softmax family over a contiguous [outer, n, inner] array.
struct ReduceParams {
  long outer, n, inner;
  long parts;  // partitions of the n axis in the first stage
  long chunk;  // elements of n per partition
  float correction, p;
};

// layer_norm / rms_norm over contiguous [rows, n].
struct NormParams {
  long rows, n;
  float eps;
  int pad0;
};

// Softmax cross-entropy over contiguous [rows, n] logits with int32 targets [rows].
struct CrossEntropyParams {
  long rows, n;
  long ignore_index;
  float smoothing;
  int pad0;
};

// out[b] = a[b] @ b[b] (+ bias) (+ residual), strides of [batch, row, col] per operand.
struct GemmParams {
  long batch, m, n, k;
  long a_strides[3];
  long b_strides[3];
  long bias_strides[3];
  long res_strides[3];
};

// Block moves of the indexing kernels: `blocks` offsets (gather) or `segments` of equal offsets (scatter).
struct BlockParams {
  long blocks, segments;
};

// im2col / col2im for NCHW input [n, c, h, w] and columns [n, c*kh*kw, out_h*out_w].
struct ConvParams {
  long n, c, h, w;
  long kh, kw, out_h, out_w;
  long stride[2], padding[2], dilation[2];
};

// Philox4x32-10 stream; low/high: the range of integer draws (uniform and normal are standard, the
// core scales them).
struct RandomParams {
  long numel;
  unsigned int seed_lo, seed_hi;
  unsigned int offset_lo, offset_hi;
  long low, high;
};

// scaled_dot_product_attention: q [B, L, D], k [B, S, D], v [B, S, Dv], additive mask [B, L, S].
struct AttentionParams {
  long batch, l, s, d, dv;
  long q_strides[3], k_strides[3], v_strides[3], mask_strides[3];
  long out_strides[3];  // contiguous rows, any row and batch strides
  float scale;
  int pad0;
};


// argsort of contiguous [rows, n] lines: blocks of `block` keys sorted in threadgroup memory, then runs
// of `width` keys merged pairwise per pass (sort.metal).
struct SortParams {
  long rows, n;
  long block, width;
  int descending;  // order from the largest key (still stable: equal keys keep their order)
  int pad0;
};

// Inclusive scans of contiguous [rows, n] lines and flatnonzero of a mask (one line): a line is cut in
// `blocks` blocks of `block` elements (scan.metal).
struct ScanParams {
  long rows, n;
  long block, blocks;
  int product;  // cumprod (else cumsum)
  int pad0;
};

// searchsorted of n probes in m sorted keys; take_rows of n rows of `width` words (search.metal).
struct SearchParams {
  long m, n;
  long width;
  int right;  // after equal keys
  int pad0;
};
