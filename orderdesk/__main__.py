import sys

from orderdesk.launcher import main

sys.exit(main())
