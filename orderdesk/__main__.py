import sys

from orderdesk.cli import main

sys.exit(main())
