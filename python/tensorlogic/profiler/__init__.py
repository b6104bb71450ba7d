"""tl.profiler, after torch.profiler: where a program's time (and memory) goes, op by op."""
from .events import EventList, FunctionEvent, FunctionEventAvg
from .profile import ProfilerAction, ProfilerActivity, profile, record_function, schedule, tensorboard_trace_handler

__all__ = ["profile", "record_function", "schedule", "tensorboard_trace_handler", "ProfilerActivity", "ProfilerAction",
           "EventList", "FunctionEvent", "FunctionEventAvg"]
