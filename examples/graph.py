"""Draw computation graphs to SVG: one sigmoid neuron op by op, and one XOR sample
through the report's 2-8-8-1 network (every value, then one box per neuron).

    python examples/graph.py [--out out]
"""

import sys

from lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["graph", *sys.argv[1:]]))
