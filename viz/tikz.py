"""A small computation graph as TikZ, for lecture notes and exam questions.

``to_tikz(root)`` writes the graph under ``root`` as a ``tikzpicture``: one box per
value (its label, data and grad, as ``draw_graph`` shows them), one circle per op,
arrows the way data flows, left to right by depth. The coordinates are worked out
here, so the picture needs nothing but TikZ (``\\usepackage{tikz}``); with
``standalone=True`` it is a whole document, a page the picture's size, that
``pdflatex`` compiles as it is (TikZ and geometry: Debian's texlive-pictures).
A label that reads as a symbol (``alpha``, ``w_1``, ``x12``) is written in math as the
step-through page's formulas write it (``viz.latexnames``); any other is escaped for
LaTeX, the few Unicode letters the engine writes (ŷ, σ, −, subscript digits) as LaTeX
commands.
"""

from __future__ import annotations

from collections import deque

from tinygrad_hw.engine import Value, walk

from .graph import number
from .latexnames import LATEX_TEXT, symbol_latex

__all__ = ["MAX_TIKZ_NODES", "to_tikz"]

MAX_TIKZ_NODES = 60  # a picture for a page: beyond this, draw_graph
SPECIAL = {
    **LATEX_TEXT,
    "ŷ": r"$\hat{y}$",
    "σ": r"$\sigma$",
    "−": r"$-$",
    "∂": r"$\partial$",
    "·": r"$\cdot$",
    "…": r"\dots{}",
    **{chr(0x2080 + d): f"$_{d}$" for d in range(10)},
}
OPS = {
    "+": r"$+$",
    "-": r"$-$",
    "*": r"$\times$",
    "/": r"$\div$",
    "neg": r"$-x$",
    "sigmoid": r"$\sigma$",
    "tanh": r"$\tanh$",
    "exp": r"$\exp$",
    "log": r"$\log$",
    "sum": r"$\Sigma$",
    "dot": r"$\Sigma\,w x$",
    "abs": r"$|x|$",
}


def latex_text(text: str) -> str:
    """``text`` as LaTeX text: its special characters escaped."""
    return "".join(SPECIAL.get(ch, ch) for ch in text)


def _op_text(op: str) -> str:
    if op in OPS:
        return OPS[op]
    for symbol, shown in (("**", "x^{"), ("^", "x^{"), ("*", r"\times "), ("+", "+"), ("-", "-"), ("/", r"\div ")):
        if op.startswith(symbol) and op[len(symbol) :].replace(".", "", 1).lstrip("-").isdigit():
            return f"${shown}{op[len(symbol) :]}{'}' if shown == 'x^{' else ''}$"
    return latex_text(op)


def _numeral(x: float) -> str:
    """A number in math mode: as ``draw_graph`` writes it, with a real minus sign."""
    shown = number(x)
    return shown.replace("inf", r"\infty").replace("nan", r"\mathrm{nan}")


def _layout(nodes: list[Value]) -> dict[Value, tuple[int, int]]:
    """Each value's (column, row). A computed value's column is one more than its
    deepest input's; a leaf sits just left of its first user. Rows are handed out from
    the output back, each input at or below the row of the value that uses it, so
    that arrows run mostly straight."""
    depth: dict[Value, int] = {}
    for v in nodes:  # children first
        depth[v] = 1 + max(depth[c] for c in v.children) if v.children else 0
    users: dict[Value, int] = {}
    for v in nodes:
        for c in v.children:
            users[c] = min(users.get(c, depth[v]), depth[v])
    column = {v: (users.get(v, 1) - 1 if not v.children else depth[v]) for v in nodes}
    row: dict[Value, int] = {nodes[-1]: 0}
    free: dict[int, int] = {column[nodes[-1]]: 1}
    queue = deque([nodes[-1]])  # the output first, then breadth first back through the inputs
    while queue:
        v = queue.popleft()
        for c in dict.fromkeys(v.children):
            if c not in row:
                row[c] = max(free.get(column[c], 0), row[v])
                free[column[c]] = row[c] + 1
                queue.append(c)
    return {v: (column[v], row[v]) for v in nodes}


def to_tikz(root: Value, *, standalone: bool = False, max_nodes: int = MAX_TIKZ_NODES, grads: bool = True) -> str:
    """The graph under ``root`` as TikZ code (a ``tikzpicture``, or with ``standalone``
    a whole document). Values show their data and, with ``grads``, their grad."""
    if not isinstance(root, Value):
        raise TypeError(f"to_tikz() takes a Value, not {type(root).__name__}")
    nodes = walk(root)
    if len(nodes) > max_nodes:
        raise ValueError(
            f"to_tikz draws small graphs: this one has {len(nodes)} values (at most {max_nodes}); "
            "draw a smaller one, or use draw_graph"
        )
    place = _layout(nodes)
    names = {v: f"v{k}" for k, v in enumerate(nodes)}
    lines = [
        r"\begin{tikzpicture}[x=1.9cm, y=-1.75cm, >=stealth, font=\small,",
        "  value/.style={draw, rounded corners=2pt, align=center, inner sep=3pt, fill=white},",
        "  leaf/.style={value, dashed}, op/.style={circle, draw, fill=black!5, inner sep=1pt, font=\\footnotesize}]",
    ]
    edges = []
    for v in nodes:
        column, row = place[v]
        name = names[v]
        lines.append(
            f"\\node[{'leaf' if not v.children else 'value'}] ({name}) at ({2 * column}, {row}) {{{_box(v, grads)}}};"
        )
        if v.children:
            lines.append(f"\\node[op] ({name}op) at ({2 * column - 1}, {row}) {{{_op_text(v._op)}}};")
            edges.append(f"\\draw[->] ({name}op) -- ({name});")
            edges += [f"\\draw[->] ({names[c]}) -- ({name}op);" for c in dict.fromkeys(v.children)]
    lines += [*edges, r"\end{tikzpicture}"]
    picture = "\n".join(lines) + "\n"
    if not standalone:
        return picture
    columns, rows = max(c for c, _ in place.values()), max(r for _, r in place.values())
    paper = f"paperwidth={3.8 * columns + 5:.1f}cm, paperheight={1.75 * rows + 4:.1f}cm, margin=0.5cm"
    head = [r"\documentclass{article}", r"\usepackage[utf8]{inputenc}", f"\\usepackage[{paper}]{{geometry}}"]
    head += [r"\usepackage{tikz}", r"\pagestyle{empty}", r"\begin{document}", r"\noindent"]
    return "\n".join(head) + "\n" + picture + "\\end{document}\n"


def label_latex(label: str) -> str:
    """A value's label as LaTeX text: a name that reads as a symbol (``alpha``, ``w_1``,
    ``x12``) in math, as the step-through page's formulas write it; any other, escaped."""
    symbol = symbol_latex(label)
    return f"${symbol}$" if symbol is not None else latex_text(label)


def _box(v: Value, grads: bool) -> str:
    label = f"\\textbf{{{label_latex(v.label)}}}\\\\ " if v.label else ""
    grad = f"\\\\ grad ${_numeral(v.grad)}$" if grads else ""
    return f"{label}data ${_numeral(v.data)}${grad}"
