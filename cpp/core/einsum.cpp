// einsum for any valid equation: parsing (implicit and explicit output, ellipsis, repeated indices as
// diagonals, size-1 broadcasting), a greedy contraction order for three or more operands, and each
// pairwise contraction lowered to permute/reshape and one batched GEMM.
#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {
namespace {

constexpr int kLetters = 52;  // a-z then A-Z; ellipsis axes get ids from kLetters up
using Labels = std::vector<int>;

struct Term {
  Array array;
  Labels labels;  // one per axis, unique after diagonals are taken
};

[[noreturn]] void fail(const std::string& what) { throw EinsumError("einsum: " + what); }

int letter_id(char c) { return c >= 'a' && c <= 'z' ? c - 'a' : (c >= 'A' && c <= 'Z' ? 26 + c - 'A' : -1); }
char letter_of(int id) { return id < 26 ? static_cast<char>('a' + id) : static_cast<char>('A' + id - 26); }
std::string label_name(int id) {
  return id < kLetters ? std::string("'") + letter_of(id) + "'" : "of the ellipsis (axis " + std::to_string(id - kLetters) + ")";
}

// One side of the equation: letters (as ids) and where "..." stands (-1 when absent).
struct Subscripts {
  Labels letters;
  int ellipsis_at = -1;
};

Subscripts parse_subscripts(const std::string& text, const std::string& where) {
  Subscripts s;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (text.compare(i, 3, "...") != 0) fail("'.' must be part of an ellipsis '...' in " + where);
      if (s.ellipsis_at >= 0) fail("more than one ellipsis in " + where);
      s.ellipsis_at = static_cast<int>(s.letters.size());
      i += 2;
    } else if (letter_id(c) < 0) {
      // A byte of a multi-byte UTF-8 character is named by position, never cut into the message.
      const std::string what = static_cast<unsigned char>(c) < 0x80 ? "'" + std::string(1, c) + "'" : "(non-ASCII)";
      fail("invalid character " + what + " at index " + std::to_string(i) + " of " + where +
           " (indices are letters a-z, A-Z)");
    } else {
      s.letters.push_back(letter_id(c));
    }
  }
  return s;
}

int64_t product(const Array& a, const Labels& labels, const Labels& which) {
  int64_t p = 1;
  for (int id : which) p *= a.shape()[std::find(labels.begin(), labels.end(), id) - labels.begin()];
  return p;
}

bool has(const Labels& labels, int id) { return std::find(labels.begin(), labels.end(), id) != labels.end(); }

// Moves the axes of `t` into the order of `groups` (concatenated) and flattens each group to one axis.
Array arrange(const Term& t, const std::vector<Labels>& groups) {
  std::vector<int> perm;
  Shape shape;
  for (const Labels& g : groups) {
    int64_t size = 1;
    for (int id : g) {
      const int axis = static_cast<int>(std::find(t.labels.begin(), t.labels.end(), id) - t.labels.begin());
      perm.push_back(axis);
      size *= t.array.shape()[axis];
    }
    shape.push_back(size);
  }
  return reshape(permute(t.array, perm), shape);
}

// Sums the axes of `t` whose labels are not in `keep`, as one GEMM against a ones vector.
Term sum_out(const Term& t, const Labels& keep) {
  Labels kept, summed;
  for (int id : t.labels) (has(keep, id) ? kept : summed).push_back(id);
  if (summed.empty()) return t;
  const Array flat = arrange(t, {kept, summed});
  const Array ones_col = full({flat.shape()[1], 1}, 1.0, Dtype::float16, flat.device());
  Shape shape;
  for (int id : kept) shape.push_back(t.array.shape()[std::find(t.labels.begin(), t.labels.end(), id) - t.labels.begin()]);
  return {reshape(matmul(flat, ones_col), shape), kept};
}

// Contracts two terms, keeping the labels in `keep`: batch (both, kept) x M (left only) x N (right
// only), summing K (both, not kept).
Term contract(const Term& a_in, const Term& b_in, const Labels& keep) {
  Labels keep_a = keep, keep_b = keep;
  keep_a.insert(keep_a.end(), b_in.labels.begin(), b_in.labels.end());
  keep_b.insert(keep_b.end(), a_in.labels.begin(), a_in.labels.end());
  const Term a = sum_out(a_in, keep_a), b = sum_out(b_in, keep_b);
  Labels batch, contracted, left, right;
  for (int id : a.labels) {
    if (has(b.labels, id)) (has(keep, id) ? batch : contracted).push_back(id);
    else left.push_back(id);
  }
  for (int id : b.labels) {
    if (!has(a.labels, id)) right.push_back(id);
  }
  Shape batch_shape;
  for (int id : batch) batch_shape.push_back(product(a.array, a.labels, {id}));
  auto grouped = [&](const Term& t, const Labels& rows, const Labels& cols) {
    Shape shape = batch_shape;
    shape.push_back(product(t.array, t.labels, rows));
    shape.push_back(product(t.array, t.labels, cols));
    std::vector<Labels> groups;
    for (int id : batch) groups.push_back({id});
    groups.push_back(rows);
    groups.push_back(cols);
    return reshape(arrange(t, groups), shape);
  };
  // Without a summed index the product is elementwise ([.., M, 1] * [.., 1, N]): no GEMM of K = 1.
  const Array lhs = grouped(a, left, contracted), rhs = grouped(b, contracted, right);
  const Array product_ab = contracted.empty() ? mul(lhs, rhs) : matmul(lhs, rhs);
  Term out;
  out.labels = batch;
  out.labels.insert(out.labels.end(), left.begin(), left.end());
  out.labels.insert(out.labels.end(), right.begin(), right.end());
  Shape shape = batch_shape;
  for (int id : left) shape.push_back(product(a.array, a.labels, {id}));
  for (int id : right) shape.push_back(product(b.array, b.labels, {id}));
  out.array = reshape(product_ab, shape);
  return out;
}

double term_size(const Labels& labels, const std::vector<int64_t>& sizes) {
  double s = 1;
  for (int id : labels) s *= static_cast<double>(sizes[id]);
  return s;
}

// The labels of contracting terms i and j given every other term and the output.
Labels pair_result(const std::vector<Term>& terms, size_t i, size_t j, const Labels& output) {
  Labels result;
  for (size_t side : {i, j}) {
    for (int id : terms[side].labels) {
      if (has(result, id)) continue;
      bool needed = has(output, id);
      for (size_t t = 0; t < terms.size() && !needed; ++t) needed = t != i && t != j && has(terms[t].labels, id);
      if (needed) result.push_back(id);
    }
  }
  return result;
}

// Labels every axis of one operand (ellipsis axes right-aligned across operands, so they broadcast),
// turns repeated labels into a diagonal view and drops size-1 axes (they broadcast); records sizes
// and how often each label occurs.
Term label_operand(const Array& operand, const Subscripts& sub, size_t index, int ellipsis_dims,
                   std::vector<int64_t>& sizes, std::vector<int>& counts) {
  const Array a = operand.dtype() == Dtype::float16 ? operand : astype(operand, Dtype::float16);
  const int nd = a.ndim(), named = static_cast<int>(sub.letters.size());
  Labels labels;
  for (int p = 0; p <= named; ++p) {
    if (p == sub.ellipsis_at) {
      for (int e = 0; e < nd - named; ++e) labels.push_back(kLetters + ellipsis_dims - (nd - named) + e);
    }
    if (p < named) labels.push_back(sub.letters[p]);
  }
  Term t;
  Shape shape;
  Strides strides;
  for (int axis = 0; axis < nd; ++axis) {
    const int id = labels[axis];
    const int64_t size = a.shape()[axis];
    ++counts[id];
    const auto seen = std::find(t.labels.begin(), t.labels.end(), id);
    if (seen != t.labels.end()) {
      const size_t at = seen - t.labels.begin();
      if (shape[at] != size) {
        fail("repeated index " + label_name(id) + " of operand " + std::to_string(index) + " spans axes of sizes " +
             std::to_string(shape[at]) + " and " + std::to_string(size));
      }
      strides[at] += a.strides()[axis];
      continue;
    }
    if (sizes[id] >= 0 && sizes[id] != size && sizes[id] != 1 && size != 1) {
      fail("index " + label_name(id) + " has size " + std::to_string(sizes[id]) + " in one operand but " +
           std::to_string(size) + " in operand " + std::to_string(index) + " (shape " + shape_str(a.shape()) + ")");
    }
    if (sizes[id] < 0 || sizes[id] == 1) sizes[id] = size;
    t.labels.push_back(id);
    shape.push_back(size);
    strides.push_back(a.strides()[axis]);
  }
  Term kept;
  Shape kept_shape;
  Strides kept_strides;
  for (size_t d = 0; d < t.labels.size(); ++d) {
    if (shape[d] == 1) continue;
    kept.labels.push_back(t.labels[d]);
    kept_shape.push_back(shape[d]);
    kept_strides.push_back(strides[d]);
  }
  kept.array = a.view_as(kept_shape, kept_strides, a.offset());
  return kept;
}

// The output labels: explicit after '->', else the ellipsis axes then the letters used once, in
// ASCII order (upper case first), like numpy and PyTorch.
Labels output_labels(const std::string& equation, size_t arrow, int ellipsis_dims, const std::vector<int>& counts) {
  Labels output;
  if (arrow == std::string::npos) {
    for (int e = 0; e < ellipsis_dims; ++e) output.push_back(kLetters + e);
    for (int id = 26; id < kLetters; ++id) {
      if (counts[id] == 1) output.push_back(id);
    }
    for (int id = 0; id < 26; ++id) {
      if (counts[id] == 1) output.push_back(id);
    }
    return output;
  }
  const Subscripts out = parse_subscripts(equation.substr(arrow + 2), "the output");
  for (size_t p = 0; p <= out.letters.size(); ++p) {
    if (static_cast<int>(p) == out.ellipsis_at) {
      for (int e = 0; e < ellipsis_dims; ++e) output.push_back(kLetters + e);
    }
    if (p == out.letters.size()) break;
    const int id = out.letters[p];
    if (counts[id] == 0) fail("output index " + label_name(id) + " does not appear in any input");
    if (has(output, id)) fail("output index " + label_name(id) + " appears more than once");
    output.push_back(id);
  }
  return output;
}

}  // namespace

Array einsum(const std::string& equation_in, const std::vector<Array>& operands) {
  if (operands.empty()) fail("at least one operand is required");
  for (const Array& a : operands) {
    if (a.device() != operands[0].device()) {
      throw DeviceError("einsum: expected all operands on one device, got " + operands[0].device().str() + " and " +
                        a.device().str());
    }
  }
  std::string equation;
  for (char c : equation_in) {
    if (c != ' ') equation += c;
  }
  const size_t arrow = equation.find("->");
  if (arrow != std::string::npos && equation.find("->", arrow + 2) != std::string::npos) {
    fail("more than one '->' in \"" + equation_in + "\"");
  }
  const std::string lhs = equation.substr(0, arrow);
  std::vector<std::string> inputs;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    inputs.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (inputs.size() != operands.size()) {
    fail("the equation \"" + equation_in + "\" has " + std::to_string(inputs.size()) + " operand(s) but " +
         std::to_string(operands.size()) + " were given");
  }
  std::vector<Subscripts> subs;
  int ellipsis_dims = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string where = "operand " + std::to_string(i) + " (\"" + inputs[i] + "\")";
    subs.push_back(parse_subscripts(inputs[i], where));
    const int named = static_cast<int>(subs[i].letters.size()), nd = operands[i].ndim();
    if (subs[i].ellipsis_at < 0 ? named != nd : named > nd) {
      fail(where + " names " + std::to_string(named) + " indices but the operand has shape " +
           shape_str(operands[i].shape()));
    }
    if (subs[i].ellipsis_at >= 0) ellipsis_dims = std::max(ellipsis_dims, nd - named);
  }
  std::vector<int64_t> sizes(kLetters + ellipsis_dims, -1);
  std::vector<int> counts(kLetters + ellipsis_dims, 0);
  std::vector<Term> terms;
  for (size_t i = 0; i < operands.size(); ++i) {
    terms.push_back(label_operand(operands[i], subs[i], i, ellipsis_dims, sizes, counts));
  }
  const Labels output = output_labels(equation, arrow, ellipsis_dims, counts);

  // Greedy order: contract the pair whose result removes the most memory (opt_einsum's greedy cost),
  // preferring pairs that share an index over outer products.
  bool fresh = false;
  while (terms.size() > 1) {
    size_t bi = 0, bj = 1;
    double best = 0;
    bool best_shares = false, found = false;
    for (size_t i = 0; i < terms.size(); ++i) {
      for (size_t j = i + 1; j < terms.size(); ++j) {
        bool shares = false;
        for (int id : terms[i].labels) shares = shares || has(terms[j].labels, id);
        const double cost = term_size(pair_result(terms, i, j, output), sizes) - term_size(terms[i].labels, sizes) -
                            term_size(terms[j].labels, sizes);
        if (!found || (shares && !best_shares) || (shares == best_shares && cost < best)) {
          bi = i, bj = j, best = cost, best_shares = shares, found = true;
        }
      }
    }
    const Labels keep = pair_result(terms, bi, bj, output);
    Term merged = contract(terms[bi], terms[bj], keep);
    terms.erase(terms.begin() + static_cast<long>(bj));
    terms[bi] = std::move(merged);
    fresh = true;
  }
  Term last = sum_out(terms[0], output);
  fresh = fresh || last.labels.size() != terms[0].labels.size();

  // Arrange into the output order, restoring axes of size 1 that were dropped as broadcast.
  std::vector<int> perm;
  Shape shape;
  for (int id : output) {
    const auto at = std::find(last.labels.begin(), last.labels.end(), id);
    if (at != last.labels.end()) perm.push_back(static_cast<int>(at - last.labels.begin()));
    shape.push_back(at != last.labels.end() ? last.array.shape()[perm.back()] : 1);
  }
  const Array arranged = permute(last.array, perm);
  Array result = fresh ? contiguous(arranged) : clone(arranged);
  return reshape(result, shape);
}

}  // namespace tensorlogic
