"""The profiler's records: one FunctionEvent per timed call, their averages by name (and input shapes), and
the table printed from them, with torch.profiler's names for every attribute and sort key."""
import collections


class FunctionEvent:
    """One timed call: an op (a Function's application), a native kernel (`tl::...`), a backward node, an
    optimizer step or a record_function range. Times are in microseconds; memory in bytes (net allocated)."""

    __slots__ = ("name", "kind", "thread", "start_ns", "end_ns", "input_shapes", "device", "cpu_parent",
                 "cpu_children", "self_cpu_memory_usage", "cpu_memory_usage", "device_events",
                 "self_device_time_total", "device_time_total", "flops")

    def __init__(self, name, kind, thread, input_shapes, parent):
        self.name, self.kind, self.thread, self.input_shapes = name, kind, thread, input_shapes
        self.cpu_parent, self.cpu_children = parent, []
        self.device = "cpu"
        self.start_ns = self.end_ns = 0
        self.self_cpu_memory_usage = self.cpu_memory_usage = 0
        self.device_events = None  # (start, end) device events of a native kernel on a GPU, read at stop()
        self.self_device_time_total = self.device_time_total = 0.0
        self.flops = 0  # estimated by profile(with_flops=True) for matrix products and convolutions

    @property
    def cpu_time_total(self):
        """Wall time of the call in microseconds, its children included."""
        return (self.end_ns - self.start_ns) / 1000.0

    @property
    def self_cpu_time_total(self):
        """Wall time of the call in microseconds, less its children's."""
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def time_range(self):
        """(start, end) in microseconds on the host's monotonic clock."""
        return self.start_ns / 1000.0, self.end_ns / 1000.0

    def __repr__(self):
        return (f"<FunctionEvent {self.name} cpu_time_total={self.cpu_time_total:.3f}us "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us input_shapes={self.input_shapes}>")


def finish(events):
    """Totals that need the whole tree: memory and device time summed over each event's descendants."""
    order, pending = [], [ev for ev in events if ev.cpu_parent is None]
    while pending:  # parents before children; filled in reverse, children first
        ev = pending.pop()
        order.append(ev)
        pending.extend(ev.cpu_children)
    for ev in reversed(order):
        ev.cpu_memory_usage = ev.self_cpu_memory_usage + sum(c.cpu_memory_usage for c in ev.cpu_children)
        ev.device_time_total = ev.self_device_time_total + sum(c.device_time_total for c in ev.cpu_children)


class FunctionEventAvg:
    """The events of one key (a name, or a name and input shapes) summed, with their count."""

    def __init__(self, key, input_shapes):
        self.key, self.input_shapes, self.count = key, input_shapes, 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.device_time_total = self.self_device_time_total = 0.0
        self.flops = 0

    def add(self, ev):
        """Adds one event's times and memory to the sums and counts it."""
        self.count += 1
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total
        self.cpu_memory_usage += ev.cpu_memory_usage
        self.self_cpu_memory_usage += ev.self_cpu_memory_usage
        self.device_time_total += ev.device_time_total
        self.self_device_time_total += ev.self_device_time_total
        self.flops += ev.flops

    @property
    def cpu_time(self):
        """The mean wall time per call in microseconds (cpu_time_total / count)."""
        return self.cpu_time_total / self.count

    @property
    def device_time(self):
        """The mean device time per call in microseconds (device_time_total / count)."""
        return self.device_time_total / self.count

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} count={self.count} cpu_time_total={self.cpu_time_total:.3f}us "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us>")


# torch.profiler's sort keys (cuda_* are its older names for device_*).
_SORT_KEYS = {"cpu_time", "cpu_time_total", "self_cpu_time_total", "device_time", "device_time_total",
              "self_device_time_total", "cpu_memory_usage", "self_cpu_memory_usage", "count"}


class EventList(list):
    """The recorded events in start order (torch.autograd.profiler_util.EventList's interface)."""

    def __init__(self, events=(), profile_memory=False, device_timing=False, with_flops=False):
        super().__init__(events)
        self._profile_memory, self._device_timing, self._with_flops = profile_memory, device_timing, with_flops

    def key_averages(self, group_by_input_shape=False):
        """The events summed by name (and by input shapes with group_by_input_shape=True), as an EventList of
        FunctionEventAvg in first-seen order."""
        groups = collections.OrderedDict()
        for ev in self:
            shapes = str(ev.input_shapes) if group_by_input_shape else ""
            key = (ev.name, shapes)
            if key not in groups:
                groups[key] = FunctionEventAvg(ev.name, ev.input_shapes if group_by_input_shape else None)
            groups[key].add(ev)
        return EventList(groups.values(), self._profile_memory, self._device_timing, self._with_flops)

    def self_cpu_time_total(self):
        """The sum of every event's self CPU time, in microseconds."""
        return sum(ev.self_cpu_time_total for ev in self)

    def table(self, sort_by=None, row_limit=100, max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        """The events (or their averages) as a text table, longest `sort_by` first."""
        rows = list(self)
        if top_level_events_only:
            rows = [r for r in rows if getattr(r, "cpu_parent", None) is None]
        if sort_by is not None:
            key = sort_by.replace("cuda_", "device_")
            if key not in _SORT_KEYS:
                raise ValueError(f"table: sort_by must be one of {sorted(_SORT_KEYS)}, got {sort_by!r}")
            rows.sort(key=lambda r: getattr(r, key), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total_self = self.self_cpu_time_total() or 1.0
        total_device = sum(r.self_device_time_total for r in self) or 1.0
        columns = [("Name", lambda r: _name_of(r)[:max_name_column_width], max_name_column_width),
                   ("Self CPU %", lambda r: f"{100.0 * r.self_cpu_time_total / total_self:.2f}%", 12),
                   ("Self CPU", lambda r: _time(r.self_cpu_time_total), 12),
                   ("CPU total %", lambda r: f"{100.0 * r.cpu_time_total / total_self:.2f}%", 12),
                   ("CPU total", lambda r: _time(r.cpu_time_total), 12),
                   ("CPU time avg", lambda r: _time(r.cpu_time_total / _count(r)), 12)]
        if self._profile_memory:
            columns += [("CPU Mem", lambda r: _bytes(r.cpu_memory_usage), 12),
                        ("Self CPU Mem", lambda r: _bytes(r.self_cpu_memory_usage), 12)]
        if self._device_timing:
            columns += [("Self Device", lambda r: _time(r.self_device_time_total), 12),
                        ("Self Device %", lambda r: f"{100.0 * r.self_device_time_total / total_device:.2f}%", 13),
                        ("Device total", lambda r: _time(r.device_time_total), 12)]
        columns.append(("# of Calls", lambda r: str(_count(r)), 10))
        if self._with_flops:
            unit, scale = _flops_unit(max([r.flops for r in rows] + [0]))
            columns.append((f"Total {unit}", lambda r: f"{r.flops / scale:.3f}" if r.flops else "--", 12))
        if any(getattr(r, "input_shapes", None) for r in rows):
            columns.append(("Input Shapes", lambda r: str(r.input_shapes)[:max_shapes_column_width],
                            max_shapes_column_width))
        widths = [max(len(title), min(w, max([len(f(r)) for r in rows] + [0]))) for title, f, w in columns]
        rule = "  ".join("-" * w for w in widths)
        lines = [header] if header else []
        lines += [rule, "  ".join(t.rjust(w) if i else t.ljust(w) for i, ((t, _, _), w) in
                                  enumerate(zip(columns, widths))), rule]
        for r in rows:
            lines.append("  ".join(f(r).rjust(w) if i else f(r).ljust(w) for i, ((_, f, _), w) in
                                   enumerate(zip(columns, widths))))
        lines += [rule, f"Self CPU time total: {_time(self.self_cpu_time_total())}"]
        if self._device_timing:
            lines.append(f"Self Device time total: {_time(sum(r.self_device_time_total for r in self))}")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def _flops_unit(largest):
    """torch.profiler's scaled FLOPs header: the largest unit in which the largest count is at least 1."""
    for unit, scale in (("PFLOPs", 1e15), ("TFLOPs", 1e12), ("GFLOPs", 1e9), ("MFLOPs", 1e6), ("KFLOPs", 1e3)):
        if largest >= scale:
            return unit, scale
    return "FLOPs", 1.0


def _name_of(r):
    return r.key if isinstance(r, FunctionEventAvg) else r.name


def _count(r):
    return r.count if isinstance(r, FunctionEventAvg) else 1


def _time(us):
    if abs(us) >= 1e6:
        return f"{us / 1e6:.3f}s"
    if abs(us) >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _bytes(n):
    for unit, size in (("Gb", 1 << 30), ("Mb", 1 << 20), ("Kb", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} b"
