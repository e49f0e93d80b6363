"""orderdesk's benchmarks (``python -m bench``; BENCHMARKS.md).

``orderdesk`` is imported first, as the app's own entry points do: it keeps httpx's
command-line client from loading (see ``orderdesk/__init__.py``), in this process and
in the sync's worker, whose ``spawn`` start imports the benchmark's main module again.
"""

import orderdesk  # noqa: F401
