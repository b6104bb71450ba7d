"""python -m tensorlogic --cmake-dir: where find_package(TensorLogic) finds the C++ package;
python -m tensorlogic run|check|repl|lsp|generate ...: the `tl` command (tensorlogic.lang.cli)."""
import argparse
import os
import sys

from .lang import cli

# The `tl` command's subcommands: `python -m tensorlogic run prog.tl` is `tl run prog.tl`.
TL_COMMANDS = {"run", "check", "repl", "lsp", "generate"}


def cmake_dir():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", "cmake", "TensorLogic")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in TL_COMMANDS:
        return cli.main(argv)
    parser = argparse.ArgumentParser(prog="python -m tensorlogic",
                                     epilog="also: python -m tensorlogic run|check|repl|lsp|generate ... (the tl command)")
    parser.add_argument("--cmake-dir", action="store_true", help="print the directory of TensorLogicConfig.cmake")
    parser.add_argument("--include-dir", action="store_true", help="print the directory of the C++ headers")
    args = parser.parse_args(argv)
    if args.cmake_dir:
        print(cmake_dir())
    elif args.include_dir:
        print(os.path.join(os.path.dirname(os.path.abspath(__file__)), "include"))
    else:
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
