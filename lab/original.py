"""The original lab report's published results, as data: what a reproduction is held to.

From "DLP HW1" (Chieh-Ming Jiang, July 2021; ../shared/reference/dlp-hw1-report.md in
the course materials): its printed predictions and accuracies, the claims of its
discussion (quoted short), and its run without activation functions. Its figures are
images that did not survive into the text, so only what it states in words and
numbers is here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACCURACY", "CLAIMS", "LINEAR_OUTPUTS", "NO_ACTIVATION_LOG", "PASSAGES", "XOR_OUTPUTS", "Claim"]

# Section III.2, "Show the accuracy of your prediction": the network's outputs as printed,
# then "Accuracy: 100.0 %" for each data set.
XOR_OUTPUTS = (
    0.12469353468567448,
    0.9337104638528066,
    0.09291249809368547,
    0.9243353615151322,
    0.07054911283387014,
    0.9138597488434843,
    0.056351510068625016,
    0.901713565439122,
    0.048304557910537116,
    0.8557494263539991,
    0.04469878244258596,
    0.044378834854928724,
    0.9712028579931401,
    0.04662213397340344,
    0.9975132656248691,
    0.05097748759622642,
    0.9993360277191011,
    0.05717816577283638,
    0.9996138756736724,
    0.06511987106761799,
    0.9996550279463754,
)  # fmt: skip  -- the 21 XOR points in the lab's order (generate_XOR_easy)
LINEAR_OUTPUTS = (
    0.010328886815399327,
    0.008531134998783175,
    0.8965441066660533,
    0.9919445358163402,
    0.9915291101275308,
    0.008262446776484,
    0.009386763711470191,
    0.010687487645907396,
    0.9895579914604112,
    0.9917535963646571,
    0.9905576775011506,
    0.9725037877828612,
    0.01459163369714962,
    0.9912605767619276,
    0.009217159653804052,
    0.012176705477023342,
    0.990657545913458,
    0.9903236253002229,
    0.00991653424461069,
    0.9907999394789483,
    0.9853954824569804,
    0.012440079674953735,
)  # fmt: skip  -- 22 of its 100 outputs, on its own random points (not ours)
ACCURACY = {"linear": 1.0, "xor": 1.0}

# Figure 20, "Without activation function": the console of the failed run.
NO_ACTIVATION_LOG = ("Epoch 0 loss: [nan]", "Epoch 100 loss: [nan]")


# The passages of its discussion and conclusion that the reproduction quotes, word for
# word (its spelling, spacing and grammar kept): whatever the report puts in quotation
# marks is a part of one of these.
PASSAGES = (
    "If the learning rate is too small(0.01), the loss decreases extremely slow, and the accuracy is low as well. "
    "However, if the learning rate is too large(1), it is hard to find the global minimum with such large step in "
    "each iteration. In this case, 0.1 is an adequate learning rate which makes the loss decrease steadily and has "
    "nice performance.",
    "Observing from the figures above, we could see with more hidden units, the loss decreases more quickly and the "
    "accuracy is higher as well. However, with more hidden units per layer, which means more computation is needed "
    "to update the weights. Meanwhile, it is time-consuming to train the network when the hidden units are large.",
    "Originally, the sigmoid function limits the output between 0 and 1. However, if no activation function is "
    "used, the output value could be extremely large. It will encounter overflow problem. Consequently, the "
    "training process is failed.",
    "Moreover, both linear and xor data set gets 100% of accuracy.",
)


@dataclass(frozen=True)
class Claim:
    """One thing the report concludes, and where."""

    key: str
    section: str
    quote: str


CLAIMS = {
    claim.key: claim
    for claim in (
        Claim("accuracy", "III.2, V", "both linear and xor data set gets 100% of accuracy"),
        Claim(
            "lr_small",
            "IV.1",
            "If the learning rate is too small(0.01), the loss decreases extremely slow, and the accuracy is low",
        ),
        Claim("lr_large", "IV.1", "if the learning rate is too large(1), it is hard to find the global minimum"),
        Claim("lr_adequate", "IV.1", "0.1 is an adequate learning rate which makes the loss decrease steadily"),
        Claim("units_speed", "IV.2", "with more hidden units, the loss decreases more quickly"),
        Claim("units_accuracy", "IV.2", "and the accuracy is higher as well"),
        Claim("units_time", "IV.2", "it is time-consuming to train the network when the hidden units are large"),
        Claim(
            "no_activation", "IV.3", "It will encounter overflow problem. Consequently, the training process is failed."
        ),
    )
}
