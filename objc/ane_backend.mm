// The `ane` backend: the Metal backend over its own buffer pool, except that GEMMs (matmul, linear) and
// conv2d run through Core ML models when the placement planner (tensorlogic/planner.py, asked once per op
// and shape) accepts the shape and a model exists: compiled once, cached, loaded for CPU + Neural Engine,
// invoked on MLMultiArrays that wrap the arrays' MTLBuffer memory (no copies; rows padded to 64 bytes only
// where an operand's rows are not). Everything else, and every call it declines, runs on Metal; every
// outcome is counted per op, shape, device and reason (tl.planner.stats()).
#import <CoreML/CoreML.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "ane.h"
#include "metal_backend.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::ane {
namespace {

constexpr int64_t kRowAlign = 32;  // f16 elements per 64 bytes

struct Model {
  MLModel* model = nil;
  std::string error;        // why this op and shape run on Metal: the planner's reason or a failure, never retried
  bool no_planner = false;  // asked again once a planner is installed
};

std::mutex state_mutex;
Planner planner;
std::unordered_map<std::string, Model> models;  // op + shape -> model
std::map<std::tuple<std::string, std::string, std::string, std::string>, uint64_t> outcomes;  // op, shape, device, reason
std::map<std::string, std::string> failed_models;

void record(const std::string& op, const std::string& shape, const char* device, const std::string& reason) {
  std::lock_guard<std::mutex> lock(state_mutex);
  outcomes[std::make_tuple(op, shape, std::string(device), reason)] += 1;
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

// The model for `op` on `shape`, asking the planner and compiling on first use; nil with the reason otherwise.
MLModel* model_for(const std::string& op, const std::string& shape, std::string* reason) {
  const std::string key = op + shape;
  Planner ask;
  {
    std::lock_guard<std::mutex> lock(state_mutex);
    auto it = models.find(key);
    if (it != models.end()) {
      *reason = it->second.error;
      return it->second.model;
    }
    ask = planner;
  }
  Model entry;
  Plan plan;
  if (!ask) {
    entry.error = "no placement planner (importing tensorlogic installs it)";
    entry.no_planner = true;
  } else {
    plan = ask(op, shape);
    if (plan.model_path.empty()) {
      entry.error = plan.reason.empty() ? std::string("the planner gave no model") : plan.reason;
    } else {
      entry.model = load_model(plan.model_path, &entry.error);
      if (entry.model == nil) {
        std::fprintf(stderr, "tensorlogic: ane: %s; this shape runs on metal from now on\n", entry.error.c_str());
      }
    }
  }
  std::lock_guard<std::mutex> lock(state_mutex);
  if (entry.model == nil && !plan.model_path.empty()) failed_models[plan.model_path] = entry.error;
  auto [it, inserted] = models.emplace(key, entry);  // a concurrent caller may have won: keep its entry
  *reason = it->second.error;
  return it->second.model;
}

void mark_failed(const std::string& key, const std::string& error) {
  std::lock_guard<std::mutex> lock(state_mutex);
  Model& entry = models[key];
  entry.model = nil;
  entry.error = error;
  std::fprintf(stderr, "tensorlogic: ane: %s; this shape runs on metal from now on\n", error.c_str());
}

bool decline(std::string* reason, const char* why) {
  *reason = why;
  return false;
}

NSArray<NSNumber*>* numbers(const std::vector<int64_t>& values) {
  NSMutableArray<NSNumber*>* out = [NSMutableArray arrayWithCapacity:values.size()];
  for (int64_t v : values) [out addObject:@(v)];
  return out;
}

std::string json_list(std::initializer_list<int64_t> values) {
  std::string out = "[";
  for (int64_t v : values) out += (out.size() > 1 ? ", " : "") + std::to_string(v);
  return out + "]";
}

const char* json_bool(bool v) { return v ? "true" : "false"; }

}  // namespace

void set_planner(Planner p) {
  std::lock_guard<std::mutex> lock(state_mutex);
  planner = std::move(p);
  for (auto it = models.begin(); it != models.end();) {  // shapes that had no planner may now have a model
    it = it->second.no_planner ? models.erase(it) : std::next(it);
  }
}

PlannerStats planner_stats() {
  std::lock_guard<std::mutex> lock(state_mutex);
  PlannerStats out;
  for (const auto& [key, calls] : outcomes) {
    out.decisions.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key), calls});
  }
  out.failed_models = failed_models;
  return out;
}

class AneBackend final : public metal::MetalBackend {
 public:
  explicit AneBackend(metal::Context& context) : MetalBackend(context, Device{DeviceType::ane, 0}) {}

  void gemm(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) override {
    std::string op, shape, reason;
    if (gemm_on_ane(a, b, out, epilogue, &op, &shape, &reason)) {
      record(op, shape, "ane", "");
      return;
    }
    record(op, shape, "metal", reason);
    MetalBackend::gemm(a, b, out, epilogue);
  }

  // A declined convolution returns false: the core lowers it to im2col + GEMMs, each planned as a GEMM.
  bool conv2d(const Array& x, const Array& w, const Array* bias, const Conv2dArgs& args, int64_t groups,
              const Array& out) override {
    const std::string shape =
        "{\"n\": " + std::to_string(x.dim(0)) + ", \"in_shape\": " + json_list({x.dim(1), x.dim(2), x.dim(3)}) +
        ", \"weight_shape\": " + json_list({w.dim(0), w.dim(1), w.dim(2), w.dim(3)}) +
        ", \"stride\": " + json_list({args.stride[0], args.stride[1]}) +
        ", \"padding\": " + json_list({args.padding[0], args.padding[1]}) +
        ", \"dilation\": " + json_list({args.dilation[0], args.dilation[1]}) + ", \"groups\": " +
        std::to_string(groups) + ", \"bias\": " + json_bool(bias != nullptr) + "}";
    std::string reason;
    MLModel* model = model_for("conv2d", shape, &reason);
    if (model != nil) {
      @autoreleasepool {
        std::deque<Array> keep;
        NSMutableDictionary<NSString*, MLFeatureValue*>* inputs = [NSMutableDictionary dictionary];
        inputs[@"x"] = feature(wrap(x, x.shape(), x.strides(), &keep));
        inputs[@"w"] = feature(wrap(w, w.shape(), w.strides(), &keep));
        if (bias) inputs[@"b"] = feature(wrap(*bias, bias->shape(), bias->strides(), &keep));
        if (predict(model, "conv2d" + shape, inputs, out, &keep, &reason)) {
          record("conv2d", shape, "ane", "");
          return true;
        }
      }
    }
    record("conv2d", shape, "metal", reason);
    return false;
  }

 private:
  static MLFeatureValue* feature(MLMultiArray* array) { return [MLFeatureValue featureValueWithMultiArray:array]; }

  // An f16 MLMultiArray over the view (`shape`, `strides`, the last stride 1) of `a`'s memory when its rows
  // are 64-byte aligned; else over a padded contiguous copy kept alive in `keep` and returned through
  // `padded` (`fill` false: an output, nothing copied in). A 1-D array is wrapped as it is.
  MLMultiArray* wrap(const Array& a, const Shape& shape, const Strides& strides, std::deque<Array>* keep,
                     const Array** padded = nullptr, bool fill = true) {
    const Array* source = &a;
    Strides used = strides;
    bool aligned = reinterpret_cast<uintptr_t>(a.data()) % 64 == 0;
    for (size_t d = 0; d + 1 < shape.size(); ++d) aligned = aligned && strides[d] % kRowAlign == 0;
    if (shape.size() > 1 && !aligned) {
      Shape padded_shape = shape;
      padded_shape.back() = (shape.back() + kRowAlign - 1) / kRowAlign * kRowAlign;
      keep->push_back(Array::empty(padded_shape, Dtype::float16, Device{DeviceType::ane, 0}));
      source = &keep->back();
      used = contiguous_strides(padded_shape);
      if (fill) copy(a.view_as(shape, strides, a.offset()), source->view_as(shape, used, 0));
    }
    if (padded != nullptr) *padded = source == &a ? nullptr : source;
    NSError* err = nil;
    MLMultiArray* array = [[MLMultiArray alloc] initWithDataPointer:source->data()
                                                             shape:numbers(shape)
                                                          dataType:MLMultiArrayDataTypeFloat16
                                                           strides:numbers(used)
                                                       deallocator:nil
                                                             error:&err];
    if (array == nil) throw DeviceError("ane: wrapping an array as MLMultiArray failed: " + describe(err));
    return array;
  }

  // Runs `model` on `inputs` with its output "out" landing in `out` (contiguous; through a padded backing
  // when out's rows are not 64-byte aligned). A failed prediction marks the model failed (never retried)
  // and returns false with the reason; nothing has been written to `out` then.
  bool predict(MLModel* model, const std::string& key, NSDictionary<NSString*, MLFeatureValue*>* inputs,
               const Array& out, std::deque<Array>* keep, std::string* reason) {
    synchronize();  // the inputs may still be being written by queued Metal work (and padding copies)
    const Array* padded_out = nullptr;
    MLMultiArray* backing = wrap(out, out.shape(), out.strides(), keep, &padded_out, false);
    NSError* err = nil;
    MLDictionaryFeatureProvider* features = [[MLDictionaryFeatureProvider alloc] initWithDictionary:inputs error:&err];
    MLPredictionOptions* options = [MLPredictionOptions new];
    options.outputBackings = @{@"out" : backing};
    id<MLFeatureProvider> prediction = features == nil ? nil : [model predictionFromFeatures:features options:options error:&err];
    if (prediction == nil) {
      mark_failed(key, "prediction failed: " + describe(err));
      *reason = "prediction failed";
      return false;
    }
    copy_result([prediction featureValueForName:@"out"].multiArrayValue, backing);
    if (padded_out != nullptr) copy(padded_out->view_as(out.shape(), padded_out->strides(), 0), out);
    return true;
  }

  // The planner's op and shape for this GEMM (always set), then whether it ran on the Neural Engine.
  bool gemm_on_ane(const Array& a, const Array& b, const Array& out, const GemmEpilogue& ep, std::string* op,
                   std::string* shape, std::string* reason) {
    static const char* const activations[] = {
#define TL_ACTIVATION(op) #op,
#include "tensorlogic/op_table.def"
    };
    const int64_t batch = out.dim(0), m = out.dim(1), n = out.dim(2), k = a.dim(2);
    const bool weight_nk = b.strides()[1] == 1;  // b is w.T of a contiguous [N, K] weight (linear)
    const bool epilogue = ep.bias || ep.residual || ep.activation != Activation::none;
    const std::string dims = "{\"batch\": " + std::to_string(batch) + ", \"m\": " + std::to_string(m) + ", ";
    if (weight_nk || epilogue) {
      *op = "linear";
      *shape = dims + "\"in_features\": " + std::to_string(k) + ", \"out_features\": " + std::to_string(n) +
               ", \"bias\": " + json_bool(ep.bias != nullptr) + ", \"activation\": \"" +
               activations[static_cast<int>(ep.activation)] + "\", \"residual\": " + json_bool(ep.residual != nullptr) +
               "}";
    } else {
      *op = "matmul";
      *shape = dims + "\"k\": " + std::to_string(k) + ", \"n\": " + std::to_string(n) + "}";
    }
    // This call's operand layout first (no model is built for work that could never use it), then the
    // planner's answer for the shape (batch 1 when it gives a model).
    const bool is_matmul = *op == "matmul";
    if (a.strides()[2] != 1) return decline(reason, "the left operand's rows are not contiguous");
    if (is_matmul && b.strides()[2] != 1) return decline(reason, "the right operand is not row-contiguous");
    if (!is_matmul && !weight_nk) return decline(reason, "an epilogue on a [K, N] weight (linear models take [N, K])");
    if (ep.bias && (ep.bias->ndim() != 1 || ep.bias->strides()[0] != 1)) {
      return decline(reason, "the bias is not a contiguous [N] vector");
    }
    if (ep.residual && ep.residual->strides()[2] != 1) return decline(reason, "the residual is not row-contiguous");
    MLModel* model = model_for(*op, *shape, reason);
    if (model == nil) return false;
    @autoreleasepool {
      std::deque<Array> keep;  // padded copies (a deque: references stay valid as it grows)
      NSMutableDictionary<NSString*, MLFeatureValue*>* inputs = [NSMutableDictionary dictionary];
      if (is_matmul) {
        inputs[@"a"] = feature(wrap(a, {m, k}, {a.strides()[1], 1}, &keep));
        inputs[@"b"] = feature(wrap(b, {k, n}, {b.strides()[1], 1}, &keep));
      } else {
        inputs[@"x"] = feature(wrap(a, {m, k}, {a.strides()[1], 1}, &keep));
        inputs[@"w"] = feature(wrap(b, {n, k}, {b.strides()[2], 1}, &keep));
        if (ep.bias) inputs[@"b"] = feature(wrap(*ep.bias, {n}, {1}, &keep));
        if (ep.residual) {
          inputs[@"residual"] = feature(wrap(*ep.residual, {m, n}, {ep.residual->strides()[1], 1}, &keep));
        }
      }
      return predict(model, *op + *shape, inputs, out.view_as({m, n}, {n, 1}, out.offset()), &keep, reason);
    }
  }

  // Core ML may ignore an output backing; then its result (any strides, rows contiguous) is copied into
  // the backing.
  static void copy_result(MLMultiArray* produced, MLMultiArray* backing) {
    if (produced == nil || produced == backing) return;
    __block const char* source = nullptr;
    __block char* target = nullptr;
    [produced getBytesWithHandler:^(const void* bytes, NSInteger) { source = static_cast<const char*>(bytes); }];
    [backing getMutableBytesWithHandler:^(void* bytes, NSInteger, NSArray<NSNumber*>*) { target = static_cast<char*>(bytes); }];
    if (source == target) return;
    const NSUInteger dims = backing.shape.count;
    const int64_t cols = backing.shape[dims - 1].longLongValue;
    int64_t rows = 1;
    for (NSUInteger d = 0; d + 1 < dims; ++d) rows *= backing.shape[d].longLongValue;
    for (int64_t r = 0; r < rows; ++r) {
      int64_t rest = r, from = 0, to = 0;
      for (NSUInteger d = dims - 1; d-- > 0;) {
        const int64_t size = backing.shape[d].longLongValue, i = rest % size;
        rest /= size;
        from += i * produced.strides[d].longLongValue;
        to += i * backing.strides[d].longLongValue;
      }
      std::memcpy(target + to * 2, source + from * 2, static_cast<size_t>(cols) * 2);
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
