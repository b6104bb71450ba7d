// The `ane` backend: the Metal backend over its own buffer pool, except that GEMMs whose shapes the
// Neural Engine takes run through Core ML models (compiled once, cached, loaded for CPU + Neural Engine),
// invoked on MLMultiArrays that wrap the arrays' MTLBuffer memory (no copies; rows padded to 64 bytes
// only where an operand's rows are not). Everything else, and every GEMM it declines, runs on Metal
// with the reason counted in the planner statistics.
#import <CoreML/CoreML.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "ane.h"
#include "metal_backend.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::ane {
namespace {

constexpr int64_t kMaxDim = 16384;          // the Neural Engine's largest tensor dimension
constexpr int64_t kMinWork = int64_t{1} << 21;  // smaller products run faster on Metal than a Core ML call
constexpr int64_t kRowAlign = 32;           // f16 elements per 64 bytes

struct Model {
  MLModel* model = nil;
  std::string error;         // set once when compiling, loading or predicting failed: never retried
  bool no_provider = false;  // asked again once a provider is installed
};

std::mutex state_mutex;
ModelProvider provider;
PlannerStats stats;
std::unordered_map<std::string, Model> models;  // op + attrs -> model

void count_fallback(const std::string& reason) {
  std::lock_guard<std::mutex> lock(state_mutex);
  stats.fallbacks[reason] += 1;
}

std::string describe(NSError* error) {
  return error ? std::string(error.localizedDescription.UTF8String) : std::string("unknown error");
}

// Compiles and loads the package at `path` (CPU + Neural Engine); the reason on failure.
MLModel* load_model(const std::string& path, std::string* error) {
  @autoreleasepool {
    NSError* err = nil;
    NSURL* url = [NSURL fileURLWithPath:[NSString stringWithUTF8String:path.c_str()]];
    NSURL* compiled = [MLModel compileModelAtURL:url error:&err];
    if (compiled == nil) {
      *error = "compiling " + path + " failed: " + describe(err);
      return nil;
    }
    MLModelConfiguration* config = [MLModelConfiguration new];
    config.computeUnits = MLComputeUnitsCPUAndNeuralEngine;
    MLModel* model = [MLModel modelWithContentsOfURL:compiled configuration:config error:&err];
    if (model == nil) *error = "loading " + path + " failed: " + describe(err);
    return model;
  }
}

// The model for `key`, asking the provider and compiling on first use; nil with the reason otherwise.
MLModel* model_for(const std::string& op, const std::string& attrs, std::string* reason) {
  const std::string key = op + attrs;
  ModelProvider ask;
  {
    std::lock_guard<std::mutex> lock(state_mutex);
    auto it = models.find(key);
    if (it != models.end()) {
      *reason = it->second.error;
      return it->second.model;
    }
    ask = provider;
  }
  Model entry;
  const std::string path = ask ? ask(op, attrs) : std::string();
  if (!ask) {
    entry.error = "no Core ML model provider (import tensorlogic with coremltools installed)";
    entry.no_provider = true;
  } else if (path.empty()) {
    entry.error = "no Core ML model could be built for this shape";
  } else {
    entry.model = load_model(path, &entry.error);
    if (entry.model == nil) {
      std::fprintf(stderr, "tensorlogic: ane: %s; this shape runs on metal from now on\n", entry.error.c_str());
    }
  }
  std::lock_guard<std::mutex> lock(state_mutex);
  if (entry.model == nil && !path.empty()) stats.failed_models[path] = entry.error;
  auto [it, inserted] = models.emplace(key, entry);  // a concurrent caller may have won: keep its entry
  *reason = it->second.error;
  return it->second.model;
}

void mark_failed(const std::string& op, const std::string& attrs, const std::string& error) {
  std::lock_guard<std::mutex> lock(state_mutex);
  Model& entry = models[op + attrs];
  entry.model = nil;
  entry.error = error;
  std::fprintf(stderr, "tensorlogic: ane: %s; this shape runs on metal from now on\n", error.c_str());
}

bool decline(std::string* reason, const char* why) {
  *reason = why;
  return false;
}

NSArray<NSNumber*>* numbers(std::initializer_list<int64_t> values) {
  NSMutableArray<NSNumber*>* out = [NSMutableArray arrayWithCapacity:values.size()];
  for (int64_t v : values) [out addObject:@(v)];
  return out;
}

}  // namespace

void set_model_provider(ModelProvider p) {
  std::lock_guard<std::mutex> lock(state_mutex);
  provider = std::move(p);
  for (auto it = models.begin(); it != models.end();) {  // shapes that had no provider may now have one
    it = it->second.no_provider ? models.erase(it) : std::next(it);
  }
}

PlannerStats planner_stats() {
  std::lock_guard<std::mutex> lock(state_mutex);
  return stats;
}

class AneBackend final : public metal::MetalBackend {
 public:
  explicit AneBackend(metal::Context& context) : MetalBackend(context, Device{DeviceType::ane, 0}) {}

  void gemm(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) override {
    std::string reason;
    if (run_on_ane(a, b, out, epilogue, &reason)) {
      std::lock_guard<std::mutex> lock(state_mutex);
      stats.ane_calls += 1;
      return;
    }
    count_fallback(reason);
    MetalBackend::gemm(a, b, out, epilogue);
  }

 private:
  // A [rows, cols] f16 MLMultiArray over `a`'s memory when its rows are 64-byte aligned, else over a
  // padded copy, kept alive in `keep` and returned through `padded` (`fill` false: an output, no copy in).
  MLMultiArray* wrap(const Array& a, int64_t rows, int64_t cols, int64_t row_stride, std::deque<Array>* keep,
                     const Array** padded = nullptr, bool fill = true) {
    const Array* source = &a;
    if (row_stride % kRowAlign != 0 || reinterpret_cast<uintptr_t>(a.data()) % 64 != 0) {
      const int64_t padded_cols = (cols + kRowAlign - 1) / kRowAlign * kRowAlign;
      keep->push_back(Array::empty({rows, padded_cols}, Dtype::float16, Device{DeviceType::ane, 0}));
      source = &keep->back();
      if (fill) copy(a.view_as({rows, cols}, {row_stride, 1}, a.offset()), source->view_as({rows, cols}, {padded_cols, 1}, 0));
      row_stride = padded_cols;
    }
    if (padded != nullptr) *padded = source == &a ? nullptr : source;
    NSError* err = nil;
    MLMultiArray* array = [[MLMultiArray alloc] initWithDataPointer:source->data()
                                                             shape:numbers({rows, cols})
                                                          dataType:MLMultiArrayDataTypeFloat16
                                                           strides:numbers({row_stride, 1})
                                                       deallocator:nil
                                                             error:&err];
    if (array == nil) throw DeviceError("ane: wrapping an array as MLMultiArray failed: " + describe(err));
    return array;
  }

  bool run_on_ane(const Array& a, const Array& b, const Array& out, const GemmEpilogue& ep, std::string* reason) {
    const int64_t m = out.dim(1), n = out.dim(2), k = a.dim(2);
    if (out.dim(0) != 1) return decline(reason, "batched matmul (the Neural Engine models are 2-D)");
    if (m > kMaxDim || n > kMaxDim || k > kMaxDim) return decline(reason, "a dimension above 16384");
    if (m * n * k < kMinWork) return decline(reason, "too small to pay for a Core ML call");
    if (a.strides()[2] != 1) return decline(reason, "the left operand's rows are not contiguous");
    const bool weight_nk = b.strides()[1] == 1;  // b is w.T of a contiguous [N, K] weight (linear)
    if (!weight_nk && b.strides()[2] != 1) return decline(reason, "the right operand is not row-contiguous");
    if (ep.bias && (ep.bias->ndim() != 1 || ep.bias->strides()[0] != 1)) {
      return decline(reason, "the bias is not a contiguous [N] vector");
    }
    if (ep.residual && ep.residual->strides()[2] != 1) return decline(reason, "the residual is not row-contiguous");
    const bool epilogue = ep.bias || ep.residual || ep.activation != Activation::none;
    if (epilogue && !weight_nk) return decline(reason, "an epilogue on a [K, N] weight (linear models take [N, K])");

    static const char* activations[] = {"none", "relu", "gelu", "gelu_tanh", "silu"};
    std::string op, attrs;
    if (weight_nk) {
      op = "linear";
      attrs = "{\"m_values\": [" + std::to_string(m) + "], \"in_features\": " + std::to_string(k) +
              ", \"out_features\": " + std::to_string(n) + ", \"bias\": " + (ep.bias ? "true" : "false") +
              ", \"activation\": \"" + activations[static_cast<int>(ep.activation)] + "\", \"residual\": " +
              (ep.residual ? "true" : "false") + "}";
    } else {
      op = "matmul";
      attrs = "{\"m_values\": [" + std::to_string(m) + "], \"k\": " + std::to_string(k) + ", \"n\": " + std::to_string(n) + "}";
    }
    MLModel* model = model_for(op, attrs, reason);
    if (model == nil) return false;

    @autoreleasepool {
      std::deque<Array> keep;  // padded copies (a deque: references stay valid as it grows)
      NSMutableDictionary<NSString*, MLFeatureValue*>* inputs = [NSMutableDictionary dictionary];
      MLMultiArray* x = wrap(a, m, k, a.strides()[1], &keep);
      if (weight_nk) {
        inputs[@"x"] = [MLFeatureValue featureValueWithMultiArray:x];
        inputs[@"w"] = [MLFeatureValue featureValueWithMultiArray:wrap(b, n, k, b.strides()[2], &keep)];
        if (ep.bias) {
          NSError* err = nil;
          MLMultiArray* bias = [[MLMultiArray alloc] initWithDataPointer:ep.bias->data() shape:numbers({n})
                                                                dataType:MLMultiArrayDataTypeFloat16 strides:numbers({1})
                                                             deallocator:nil error:&err];
          if (bias == nil) throw DeviceError("ane: wrapping the bias failed: " + describe(err));
          inputs[@"b"] = [MLFeatureValue featureValueWithMultiArray:bias];
        }
        if (ep.residual) {
          inputs[@"residual"] = [MLFeatureValue featureValueWithMultiArray:wrap(*ep.residual, m, n, ep.residual->strides()[1], &keep)];
        }
      } else {
        inputs[@"a"] = [MLFeatureValue featureValueWithMultiArray:x];
        inputs[@"b"] = [MLFeatureValue featureValueWithMultiArray:wrap(b, k, n, b.strides()[1], &keep)];
      }
      synchronize();  // the inputs may still be being written by queued Metal work (and padding copies)
      const Array* padded_out = nullptr;
      const Array out_2d = out.view_as({m, n}, {n, 1}, out.offset());
      MLMultiArray* result = wrap(out_2d, m, n, n, &keep, &padded_out, false);
      NSError* err = nil;
      MLDictionaryFeatureProvider* features = [[MLDictionaryFeatureProvider alloc] initWithDictionary:inputs error:&err];
      MLPredictionOptions* options = [MLPredictionOptions new];
      options.outputBackings = @{@"out" : result};
      id<MLFeatureProvider> prediction =
          features == nil ? nil : [model predictionFromFeatures:features options:options error:&err];
      if (prediction == nil) {
        mark_failed(op, attrs, "prediction failed: " + describe(err));
        *reason = "prediction failed";
        return false;
      }
      MLMultiArray* produced = [prediction featureValueForName:@"out"].multiArrayValue;
      copy_result(produced, result, m, n);
      if (padded_out != nullptr) {  // the backing was padded: move its rows into out
        const int64_t stride = padded_out->dim(1);
        copy(padded_out->view_as({1, m, n}, {m * stride, stride, 1}, 0), out);
      }
    }
    return true;
  }

  // Core ML may ignore an output backing; then its result is copied into the backing.
  static void copy_result(MLMultiArray* produced, MLMultiArray* backing, int64_t m, int64_t n) {
    if (produced == nil || produced == backing) return;
    __block const void* source = nullptr;
    __block void* target = nullptr;
    [produced getBytesWithHandler:^(const void* bytes, NSInteger) { source = bytes; }];
    [backing getMutableBytesWithHandler:^(void* bytes, NSInteger, NSArray<NSNumber*>*) { target = bytes; }];
    if (source == target) return;
    const int64_t src_row = produced.strides[0].longLongValue, dst_row = backing.strides[0].longLongValue;
    for (int64_t r = 0; r < m; ++r) {
      std::memcpy(static_cast<char*>(target) + r * dst_row * 2, static_cast<const char*>(source) + r * src_row * 2,
                  static_cast<size_t>(n) * 2);
    }
  }
};

// ---- the hooks of cpp/core/dispatch.cpp ------------------------------------------------------------
bool device_present() {
  if (metal::Context::get() == nullptr) return false;
  if (@available(macOS 14.0, *)) {
    for (id<MLComputeDeviceProtocol> device in MLAllComputeDevices()) {
      if ([device isKindOfClass:[MLNeuralEngineComputeDevice class]]) return true;
    }
    return false;
  }
#if defined(__arm64__)
  return true;  // every Apple-silicon Mac has a Neural Engine; macOS 13 cannot list it
#else
  return false;
#endif
}

Backend* create_backend() {
  metal::Context* context = metal::Context::get();
  return context == nullptr ? nullptr : new AneBackend(*context);
}

}  // namespace tensorlogic::ane
