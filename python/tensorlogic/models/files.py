"""The check the loaders make before they open a file: open() of a named pipe waits for a writer for ever, and a
folder, socket or device is no checkpoint file."""
import os
import stat

from .errors import ModelLoadError

_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISDIR, "a folder"), (stat.S_ISSOCK, "a socket"))


def regular_file(path):
    """`path`, where it names a regular file or nothing (open() then raises FileNotFoundError); ModelLoadError
    naming it where it is a named pipe, a folder, a socket or a device."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # missing or unreadable: open() tells which
        return path
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "a device")
        raise ModelLoadError(f"{os.fspath(path)}: not a regular file ({kind})")
    return path
