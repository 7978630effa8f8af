"""Train the report's network (2-8-8-1, sigmoid, lr 0.1, per-sample SGD) on the lab's
xor set: prints the loss, the predictions and the accuracy, and writes the comparison
figure, the learning curve and one training sample's computation graph (SVG) to out/.

    python examples/xor.py [--epochs N] [--lr 0.1] [--hidden 8 8] [--seed 1] [--out out]
"""

import sys

from lab.cli import example_main

if __name__ == "__main__":
    sys.exit(example_main("xor"))
