"""python -m tensorlogic --cmake-dir: where find_package(TensorLogic) finds the C++ package."""
import argparse
import os


def cmake_dir():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", "cmake", "TensorLogic")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tensorlogic")
    parser.add_argument("--cmake-dir", action="store_true", help="print the directory of TensorLogicConfig.cmake")
    parser.add_argument("--include-dir", action="store_true", help="print the directory of the C++ headers")
    args = parser.parse_args(argv)
    if args.cmake_dir:
        print(cmake_dir())
    elif args.include_dir:
        print(os.path.join(os.path.dirname(os.path.abspath(__file__)), "include"))
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
