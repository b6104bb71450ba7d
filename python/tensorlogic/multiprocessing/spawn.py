"""torch.multiprocessing.spawn and start_processes: fn(i, *args) run in nprocs new processes, waited for, and what
failed in one of them raised in the parent (its traceback in a ProcessRaisedException, or the exit code or signal
in a ProcessExitedException) after the others are stopped."""
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import traceback


class ProcessException(Exception):
    """A process started by spawn failed: which one (error_index) and its pid (error_pid)."""

    def __init__(self, msg, error_index, error_pid):
        super().__init__(msg)
        self.msg, self.error_index, self.error_pid = msg, error_index, error_pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid)


class ProcessRaisedException(ProcessException):
    """A process raised an exception; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A process exited with a non-zero code without raising (exit_code; signal_name when a signal ended it)."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid, self.exit_code, self.signal_name)


def _wrap(fn, i, args, error_file):
    """A child's body: fn(i, *args); an exception's traceback goes to error_file for the parent, exit code 1."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches every process of the group: the parent's KeyboardInterrupt reports it
    except Exception:
        with open(error_file, "wb") as f:
            pickle.dump(traceback.format_exc(), f)
        sys.exit(1)


class ProcessContext:
    """The processes of one start_processes call; join() waits for them and raises what failed."""

    def __init__(self, processes, error_files):
        self.processes, self.error_files = processes, error_files
        self.sentinels = {process.sentinel: index for index, process in enumerate(processes)}

    def pids(self):
        return [int(process.pid) for process in self.processes]

    def join(self, timeout=None):
        """True once every process has exited successfully, False while some still run after `timeout` seconds;
        when one has failed, stops the others and raises ProcessRaisedException or ProcessExitedException."""
        if not self.sentinels:
            return True
        failed = None
        for sentinel in multiprocessing.connection.wait(list(self.sentinels), timeout=timeout):
            index = self.sentinels.pop(sentinel)
            self.processes[index].join()
            if self.processes[index].exitcode != 0:
                failed = index
                break
        if failed is None:
            return not self.sentinels
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        raise self._failure(failed)

    def _failure(self, index):
        process, error_file = self.processes[index], self.error_files[index]
        if os.path.exists(error_file) and os.path.getsize(error_file) > 0:
            with open(error_file, "rb") as f:
                original = pickle.load(f)
            os.remove(error_file)
            return ProcessRaisedException(f"\n\n-- Process {index} terminated with the following error:\n{original}",
                                          index, process.pid)
        if process.exitcode < 0:
            name = signal.Signals(-process.exitcode).name
            return ProcessExitedException(f"process {index} terminated with signal {name}", index, process.pid,
                                          process.exitcode, name)
        return ProcessExitedException(f"process {index} terminated with exit code {process.exitcode}", index,
                                      process.pid, process.exitcode)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Starts nprocs processes (multiprocessing's `start_method`) running fn(i, *args) for i in range(nprocs).
    With join, waits until all have finished (raising what failed); otherwise returns their ProcessContext."""
    context = multiprocessing.get_context(start_method)
    processes, error_files = [], []
    for i in range(nprocs):
        fd, error_file = tempfile.mkstemp(prefix="tensorlogic-errorfile-", suffix=".pickle")
        os.close(fd)
        os.remove(error_file)  # the child creates it only when it has an error to report
        process = context.Process(target=_wrap, args=(fn, i, args, error_file), daemon=daemon)
        process.start()
        processes.append(process)
        error_files.append(error_file)
    processes_context = ProcessContext(processes, error_files)
    if not join:
        return processes_context
    while not processes_context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """torch.multiprocessing.spawn: start_processes with the spawn start method by default. fn(i, *args) must be
    importable by name (a module-level function) under spawn."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
