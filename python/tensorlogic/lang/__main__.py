"""`python -m tensorlogic.lang run prog.tl` (the same as `tl run prog.tl`)."""
import sys

from .cli import main

sys.exit(main())
