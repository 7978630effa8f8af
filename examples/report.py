"""Reproduce the lab report: run its results and discussion (and the lab's extras)
and write report/report.md with its figures.

    python examples/report.py [--out report] [--quick]
"""

import sys

from lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["report", *sys.argv[1:]]))
