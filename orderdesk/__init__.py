"""orderdesk: a desktop order-management application."""

__version__ = "0.1.0"

import sys as _sys

# httpx imports its command-line client when the packages that client needs (click,
# rich, pygments) are installed, as the development tools install them: ~0.2 s more
# for every process that starts (the window, the sync's worker, the demo server).
# orderdesk never uses that client; with this entry httpx's own fallback applies
# (``import httpx._main`` raises ImportError, and httpx defines a stub ``main``).
# tests/unit/test_layers.py checks that httpx still imports and works this way.
if "httpx" not in _sys.modules:  # (once httpx is loaded, its client is too, or not)
    _sys.modules["httpx._main"] = None  # type: ignore[assignment]
