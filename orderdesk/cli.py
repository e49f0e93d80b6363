"""The ``orderdesk`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from orderdesk import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orderdesk",
        description="Review, search and export a shop's orders from a local cache.",
    )
    parser.add_argument("--version", action="version", version=f"orderdesk {__version__}")
    parser.add_argument("--data-dir", help="folder for the cache and settings "
                        "(default: the platform's data folder, or $ORDERDESK_DATA_DIR)")
    parser.add_argument("--demo", action="store_true",
                        help="open the app on the embedded demo shop")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        print("orderdesk: the desktop window is not built yet; "
              "run `orderdesk --help` for the commands available.", file=sys.stderr)
        return 2
    parser.print_help()  # pragma: no cover
    return 2


def gui_main() -> int:
    return main([])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
