// Embedding TensorLogic in C++: build f16 tensors, multiply them, sum, softmax, run a fused linear
// layer and attention, and check each result against values worked out by hand.
#include <cmath>
#include <cstdio>
#include <vector>

#include <tensorlogic/tensorlogic.h>

namespace tl = tensorlogic;

static int failures = 0;

static void expect(const char* what, const tl::Array& result, const std::vector<float>& want) {
  std::vector<tl::half> bits(static_cast<size_t>(result.numel()));
  tl::to_host(result, bits.data());
  bool ok = bits.size() == want.size();
  for (size_t i = 0; ok && i < want.size(); ++i) {
    ok = std::fabs(tl::to_float(bits[i]) - want[i]) <= 2e-3f * std::fmax(1.0f, std::fabs(want[i]));
  }
  std::printf("%-10s %s:", what, ok ? "ok" : "MISMATCH");
  for (const tl::half& h : bits) std::printf(" %g", tl::to_float(h));
  std::printf("\n");
  if (!ok) ++failures;
}

int main() {
  try {
    const tl::Device cpu{tl::DeviceType::cpu, 0};
    const float a_data[] = {1, 2, 3, 4, 5, 6};  // [2, 3]
    const float b_data[] = {1, 0, 0, 1, 1, 1};  // [3, 2]
    const tl::Array a = tl::from_host_f32(a_data, {2, 3}, cpu);
    const tl::Array b = tl::from_host_f32(b_data, {3, 2}, cpu);

    const tl::Array c = tl::matmul(a, b);
    expect("matmul", c, {4, 5, 10, 11});
    expect("sum", tl::sum(c), {30});
    expect("row sums", tl::sum(c, {1}), {9, 21});
    expect("einsum", tl::einsum("ij,ij->i", {c, c}), {41, 221});

    // softmax([0, ln 3]) = [1/4, 3/4]
    const float logits[] = {0.0f, static_cast<float>(std::log(3.0))};
    expect("softmax", tl::softmax(tl::from_host_f32(logits, {2}, cpu), 0), {0.25f, 0.75f});
    expect("matmul^T", tl::matmul(tl::transpose(b, 0, 1), tl::transpose(a, 0, 1)), {4, 10, 5, 11});

    // relu([1, -2] @ [[1, 1], [2, 1]]^T + [0.5, 3]) = relu([-0.5, 3])
    const float x_data[] = {1, -2}, w_data[] = {1, 1, 2, 1}, bias_data[] = {0.5f, 3};
    const tl::Array y = tl::linear(tl::from_host_f32(x_data, {2}, cpu), tl::from_host_f32(w_data, {2, 2}, cpu),
                                   tl::from_host_f32(bias_data, {2}, cpu), tl::Activation::relu);
    expect("linear", y, {0, 3});

    // Scores [ln 3, 0] give softmax weights [3/4, 1/4] over the values [4, 0] and [0, 8].
    const float q_data[] = {1, 0}, k_data[] = {1, 0, 0, 0}, v_data[] = {4, 0, 0, 8};
    const tl::Array att = tl::scaled_dot_product_attention(
        tl::from_host_f32(q_data, {1, 2}, cpu), tl::from_host_f32(k_data, {2, 2}, cpu),
        tl::from_host_f32(v_data, {2, 2}, cpu), std::nullopt, false, std::log(3.0));
    expect("attention", att, {3, 2});
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 2;
  }
  return failures == 0 ? 0 : 1;
}
