"""The limits that make a program safe to run untrusted: one step budget shared by loop
iterations, function calls and fixpoint rounds, and an optional wall-clock limit.  Exceeding either
raises `TensorLogicRuntimeError` at the statement that was running."""
from __future__ import annotations

import time

from ..errors import TensorLogicRuntimeError, located

# Steps a program may take: every example runs within 5,000, and a runaway loop reaches the limit
# in seconds (an empty loop costs ~10 µs a step).
DEFAULT_MAX_STEPS = 250_000


class Budget:
    def __init__(self, model, max_steps=DEFAULT_MAX_STEPS, time_limit=None):
        self.model = model
        self.max_steps = int(max_steps)
        self.time_limit = time_limit
        self.steps = 0
        self.deadline = None

    def start(self):
        """Starts the clock (each `Program.run` or test run gets the whole time limit)."""
        self.deadline = None if self.time_limit is None else time.monotonic() + self.time_limit

    def tick(self, span):
        self.steps += 1
        if self.steps > self.max_steps:
            raise self.error(f"the program took more than {self.max_steps} steps (loop iterations, "
                             f"calls and fixpoint rounds); raise the limit with --max-steps", span)
        self.check_time(span)

    def check_time(self, span):
        """The time limit alone, for work that takes no step (the pieces of a large join)."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise self.error(f"the program ran longer than its time limit of {self.time_limit} s",
                             span)

    def error(self, message, span):
        file = span.file if span is not None and span.file is not None else self.model.filename
        return located(TensorLogicRuntimeError, message, file, span, self.model.sources.get(file))
