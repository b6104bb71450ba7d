"""The GPU's energy counter and its power-cap time, read through NVML (the driver's libnvidia-ml) with ctypes.

A training step that keeps the GPU busier draws more power; at the board's limit the driver lowers the clock,
and every kernel of the step slows alike. `PowerMeter.read()` gives the two counters that say whether that
happened over an interval: the energy used since the driver loaded (millijoules) and the time the clock was held
down for power (nanoseconds, NVML's violation counter for NVML_PERF_POLICY_POWER). Without NVML (no NVIDIA
driver) `PowerMeter.open()` returns None and callers report nothing."""
import ctypes

_PERF_POLICY_POWER = 0


class _ViolationTime(ctypes.Structure):
    _fields_ = [("reference_time", ctypes.c_ulonglong), ("violation_time", ctypes.c_ulonglong)]


class PowerMeter:
    def __init__(self, nvml, handle):
        self._nvml, self._handle = nvml, handle

    @classmethod
    def open(cls, index=0):
        """The meter of GPU `index` in NVML's numbering (the CUDA ordinal when CUDA_VISIBLE_DEVICES is unset)."""
        try:
            nvml = ctypes.CDLL("libnvidia-ml.so.1")
        except OSError:
            return None
        handle = ctypes.c_void_p()
        if nvml.nvmlInit_v2() != 0 or nvml.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(handle)) != 0:
            return None
        meter = cls(nvml, handle)
        return meter if meter.read() is not None else None

    def read(self):
        """(energy in millijoules, nanoseconds held down for power), both since the driver loaded; None if NVML
        cannot say on this GPU."""
        energy, violation = ctypes.c_ulonglong(), _ViolationTime()
        if self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle, ctypes.byref(energy)) != 0:
            return None
        if self._nvml.nvmlDeviceGetViolationStatus(self._handle, _PERF_POLICY_POWER, ctypes.byref(violation)) != 0:
            return None
        return energy.value, violation.violation_time
