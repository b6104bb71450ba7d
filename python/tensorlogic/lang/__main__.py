"""`python -m tensorlogic.lang run prog.tl` (the same as `tl run prog.tl`)."""
import sys

from .cli import main

if __name__ == "__main__":  # importing this module (the API reference's inspection does) runs nothing
    sys.exit(main())
