"""Run the slogen CLI in this process and write its peak memory (KiB) to $SLOGEN_RSS_FILE."""

from __future__ import annotations

import os
import resource
import sys

from slogen.cli import main

try:
    main(sys.argv[1:])
finally:
    with open(os.environ["SLOGEN_RSS_FILE"], "w") as out:
        out.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
