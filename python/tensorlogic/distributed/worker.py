"""One rank started by tensorlogic.distributed.run: sets torchrun's variables from MPI's, runs the script."""
import os
import runpy
import sys


def main():
    args = sys.argv[1:]
    as_module = args[:1] == ["-m"]
    if as_module:
        args = args[1:]
    os.environ["RANK"] = os.environ.get("PMI_RANK", "0")
    os.environ["LOCAL_RANK"] = os.environ.get("MPI_LOCALRANKID", os.environ["RANK"])
    os.environ.setdefault("WORLD_SIZE", os.environ.get("PMI_SIZE", "1"))
    sys.argv = args
    if as_module:
        runpy.run_module(args[0], run_name="__main__", alter_sys=True)
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(args[0])))
        runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
