import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from e2e_helpers import ctx, demo

__all__ = ["ctx", "demo"]
