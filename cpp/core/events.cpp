// Events, graphs and device properties over the backends, and what a backend without them reports.
#include "backend.h"
#include "tensorlogic/errors.h"

namespace tensorlogic {

Event::Event(Device device, bool timing) : device_(device), timing_(timing) {
  impl_ = backend_for(device).create_event(timing);
}

void Event::record() {
  backend_for(device_);  // selects the event's device on this thread: the record lands in its queue
  impl_->record();
  recorded_ = true;
}

void Event::synchronize() {
  if (recorded_) impl_->synchronize();  // like PyTorch: an event never recorded is complete
}

bool Event::query() { return !recorded_ || impl_->query(); }

double Event::elapsed_ms(Event& end) {
  if (!timing_ || !end.timing_) throw DeviceError("Event.elapsed_time: both events need enable_timing=True");
  if (device_ != end.device_) {
    throw DeviceError("Event.elapsed_time: the events are on " + device_.str() + " and " + end.device_.str());
  }
  if (!recorded_ || !end.recorded_) throw DeviceError("Event.elapsed_time: both events must be recorded first");
  end.synchronize();
  return impl_->elapsed_ms(*end.impl_);
}

// Each call selects the graph's device on this thread first: capture and launch use its queue.
Graph::Graph(Device device) : device_(device) { impl_ = backend_for(device).create_graph(); }

void Graph::pool_begin() {
  backend_for(device_);
  impl_->pool_begin();
}

void Graph::pool_end() {
  backend_for(device_);
  impl_->pool_end();
}

void Graph::capture_begin() {
  backend_for(device_);
  impl_->capture_begin();
}

std::string Graph::capture_end() {
  backend_for(device_);
  return impl_->capture_end();
}

void Graph::launch() {
  backend_for(device_);
  impl_->launch();
}

void Graph::share_pool(Graph& owner) {
  if (owner.device_ != device_) {
    throw DeviceError("CUDAGraph: a graph on " + device_.str() + " cannot share the pool of a graph on " +
                      owner.device_.str());
  }
  backend_for(device_);
  impl_->share_pool(*owner.impl_);
}

DeviceProperties Backend::properties() { return DeviceProperties{device_type_name(type())}; }

std::unique_ptr<DeviceEvent> Backend::create_event(bool) {
  throw DeviceError(std::string("events are not implemented for ") + device_type_name(type()));
}

std::unique_ptr<DeviceGraph> Backend::create_graph() {
  throw DeviceError(std::string("graph capture is not implemented for ") + device_type_name(type()) +
                    " (CUDA only)");
}

void Backend::copy_peer(const Array& src, const Array& dst) {
  throw DeviceError("no direct copy from " + src.device().str() + " to " + dst.device().str());
}

}  // namespace tensorlogic
