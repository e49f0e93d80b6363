"""``orderdesk``: the window when no command is given, else the command line.

Imports nothing at module level beyond the standard library: a ``spawn`` child of this
process (the sync's worker) imports the main module again, the console script's
``from orderdesk.launcher import main`` included, and the command line (services,
SQLAlchemy, ...) cost it ~0.5 s before its first page.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from orderdesk import cli

    args_list = list(sys.argv[1:] if argv is None else argv)
    args = cli.build_parser().parse_args(cli._join_sort(args_list))
    if args.command is not None:
        return cli.main(args_list)
    return open_window(data_dir=args.data_dir, demo=args.demo)


def open_window(*, data_dir: str | None = None, demo: bool = False) -> int:
    try:
        from orderdesk.ui.app import main as ui_main
    except ImportError as exc:  # Qt's system libraries missing, typically
        print("orderdesk: the window cannot start: " + str(exc) + "\nInstall the system "
              "packages listed in the README (or run `bash scripts/demo`).", file=sys.stderr)
        return 1
    return int(ui_main(data_dir=data_dir, demo=demo))


def gui_main() -> int:
    return main([])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
