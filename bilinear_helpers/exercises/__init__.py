"""Exercise checks: `check_...(answer)` prints what is right, or what is wrong and why, and returns a bool.

Each notebook poses one to three exercises at the points where a reader should try the
idea; the check for exercise NN.k names it in its docstring. The solution follows in a
collapsed cell that runs `assert check_...(solution)`, so the tests run every check.
"""

from .chapters_01_05 import *  # noqa: F403
from .chapters_01_05 import __all__ as _chapters_01_05
from .chapters_06_08 import *  # noqa: F403
from .chapters_06_08 import __all__ as _chapters_06_08
from .chapters_09_11 import *  # noqa: F403
from .chapters_09_11 import __all__ as _chapters_09_11

__all__ = sorted(_chapters_01_05 + _chapters_06_08 + _chapters_09_11)
