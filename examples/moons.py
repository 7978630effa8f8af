"""micrograd's demo, reproduced with tinygrad_hw: 100 "moons" points, a 2-16-16-1 ReLU
MLP with a linear output, the SVM max-margin loss plus 1e-4 L2, 100 steps of SGD
with lr 1.0 - 0.9 k/100. Prints the demo's lines, reaches 100 %, and draws the
decision boundary into out/moons_boundary.png.

    python examples/moons.py [--steps 100] [--seed 1337] [--engine eager] [--out out]
"""

import sys

from lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["moons", *sys.argv[1:]]))
