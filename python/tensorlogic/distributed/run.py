"""The launcher: `python -m tensorlogic.distributed.run --nproc-per-node N script.py args` (torchrun's flags).

The processes are started by mpiexec (hydra, from the `mpich` wheel), so MPI's world is formed by its
process manager: no port or address is needed for the rendezvous. Each rank runs tensorlogic.distributed.worker,
which sets torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT)
from MPI's and then runs the script as __main__. Hydra's auto-cleanup is off, so when one rank dies the
others end with DistBackendError at their next collective (after the group's timeout) instead of SIGKILL."""
import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys


def find_mpiexec():
    """mpiexec of the mpich wheel (installed beside this interpreter's packages), else the one on PATH."""
    try:
        files = importlib.metadata.distribution("mpich").files or []
        for f in files:
            if str(f).endswith("bin/mpiexec.hydra"):
                path = importlib.metadata.distribution("mpich").locate_file(f)
                if os.path.exists(path):
                    return str(path)
    except importlib.metadata.PackageNotFoundError:
        pass
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError("tensorlogic.distributed.run: no mpiexec; pip install 'tensorlogic[distributed]'")
    return found


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m tensorlogic.distributed.run",
                                description="Start N processes of a training script on this machine.")
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1)
    p.add_argument("--nnodes", type=str, default="1", help="only 1 (one machine) is supported")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0)
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true", help="accepted for torchrun compatibility")
    p.add_argument("-m", "--module", action="store_true", help="run the script as a module (python -m)")
    p.add_argument("--no-python", "--no_python", action="store_true", help="run the script as an executable")
    p.add_argument("training_script")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    if args.nnodes not in ("1", "1:1") or args.node_rank != 0:
        p.error("only one node is supported (--nnodes 1)")
    if args.nproc_per_node < 1:
        p.error("--nproc-per-node must be at least 1")
    return args


def command(args):
    """The mpiexec command line that starts the ranks."""
    if args.no_python:
        target = [args.training_script]
    else:
        target = [sys.executable, "-m", "tensorlogic.distributed.worker"] + (["-m"] if args.module else [])
        target.append(args.training_script)
    return [find_mpiexec(), "-disable-auto-cleanup", "-n", str(args.nproc_per_node)] + target + \
        args.training_script_args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ, MASTER_ADDR=args.master_addr, MASTER_PORT=str(args.master_port),
               WORLD_SIZE=str(args.nproc_per_node), LOCAL_WORLD_SIZE=str(args.nproc_per_node),
               GROUP_RANK="0")
    return subprocess.call(command(args), env=env)


if __name__ == "__main__":
    sys.exit(main())
