"""viz.draw_graph: exact DOT, SVG, kinds, colours, clusters, big graphs."""

import html
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_hw import Value
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from viz import GraphTooLarge, draw_graph
from viz.gallery import one_neuron, xor_sample
from viz.graph import number

needs_dot = pytest.mark.usefixtures("graphviz_dot")  # skipped without Graphviz, failed in CI
SVG = "{http://www.w3.org/2000/svg}"

SMALL = """digraph "computation graph" {
	graph [fontname=Helvetica nodesep=0.12 rankdir=LR]
	node [fontname=Helvetica fontsize=11]
	v0 [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr><td>x</td></tr><hr/><tr><td>data 2.0000</td></tr><hr/><tr><td>grad 3.0000</td></tr></table>> color="#666666" fillcolor=white fontcolor=black margin="0.04,0.02" penwidth=1.2 shape=box style="filled,dashed"]
	v1 [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr><td>data 6.0000</td></tr><hr/><tr><td>grad 1.0000</td></tr></table>> color="#333333" fillcolor=white fontcolor=black margin="0.04,0.02" penwidth=1 shape=box style=filled]
	v1_op [label="*3" color="#6f8fb0" fillcolor="#dbe9f6" fontsize=10 shape=ellipse style=filled]
	v2 [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr><td>data 6.0000</td></tr><hr/><tr><td>grad 1.0000</td></tr></table>> color="#2a8c2a" fillcolor=white fontcolor=black margin="0.04,0.02" penwidth=2 peripheries=2 shape=box style=filled]
	v2_op [label=ReLU color="#6f8fb0" fillcolor="#dbe9f6" fontsize=10 shape=ellipse style=filled]
	v1_op -> v1
	v0 -> v1_op
	v2_op -> v2
	v1 -> v2_op
}
"""  # noqa: E501


def small():
    x = Value(2.0, "x")
    y = (x * 3).relu()
    y.backward()
    return y


def test_the_dot_text_of_a_small_graph():
    assert draw_graph(small(), color_by=None).source == SMALL


def test_the_same_graph_always_gives_the_same_text():
    model, loss = xor_sample()
    assert draw_graph(loss, model=model).source == draw_graph(loss, model=model).source
    model2, loss2 = xor_sample()  # built again from scratch
    assert draw_graph(loss, model=model).source == draw_graph(loss2, model=model2).source


@needs_dot
def test_the_svg_parses_and_shows_the_numbers():
    loss, a, params = one_neuron()
    svg = ET.fromstring(draw_graph(loss, params=params, output=a).pipe(format="svg"))
    text = " ".join(t.text or "" for t in svg.iter(SVG + "text"))
    assert f"data {number(a.data)}" in text and f"grad {number(params[0].grad)}" in text
    assert "sigmoid" in text and "w1" in text and "fill: |grad|" in text


def line_of(source: str, label: str) -> str:
    """The DOT line of the box whose first row is ``label``, as drawn (HTML-escaped)."""
    first = f"<tr><td>{html.escape(label)}</td></tr>"
    lines = [line for line in source.splitlines() if first in line.split("<hr/>")[0]]
    assert len(lines) == 1, f"{len(lines)} boxes labelled {label!r}"
    return lines[0]


def test_kinds_are_told_apart():
    loss, a, params = one_neuron()
    source = draw_graph(loss, params=params, output=a).source
    assert 'color="#1f4e99"' in line_of(source, "w1")  # parameter: blue
    assert 'style="filled,dashed"' in line_of(source, "x1")  # input: dashed
    assert re.search(r'color="#2a8c2a".*peripheries=2', line_of(source, "a = ŷ"))  # output: green, double
    assert re.search(r'color="#c0282b".*peripheries=2', line_of(source, "C"))  # loss: red, double
    model, mlp_loss = xor_sample()
    mlp_source = draw_graph(mlp_loss, model=model).source
    assert 'color="#2a8c2a"' in line_of(mlp_source, "a3[1]")  # found without output=


def test_fill_follows_gradient_magnitude_in_decades():
    a, b, c = Value(1.0, "big"), Value(1.0, "middle"), Value(1.0, "tiny")
    y = Value.sum([a * 100.0, b * 0.5, c * 1e-5])
    y.backward()
    source = draw_graph(y).source
    assert 'fillcolor="#ef6548"' in line_of(source, "big")  # the largest |grad|
    assert 'fillcolor="#fdbb84"' in line_of(source, "middle")  # 0.5 %: between 1e-3 and 1e-2
    assert 'fillcolor="#fef0d9"' in line_of(source, "tiny")  # 1e-7 of it
    assert "largest below the top node: 100.0000" in source  # y's own grad, 1, is the seed


def test_non_finite_gradients_get_their_own_colour():
    x = Value(0.0, "x")
    y = x.log()
    y.backward()  # ∂log(x)/∂x at 0 is inf
    line = line_of(draw_graph(y).source, "x")
    assert "<td>grad inf</td>" in line and 'fillcolor="#c5b0d5"' in line


def test_an_mlp_is_grouped_by_layer_and_neuron():
    model, loss = xor_sample()
    source = draw_graph(loss, model=model).source
    for k, n in ((1, 8), (2, 8), (3, 1)):
        assert f"subgraph cluster_layer{k} {{" in source
        assert f"subgraph cluster_layer{k}_neuron{n} {{" in source
    # W2[3,1] is drawn inside neuron 3 of layer 2
    block = re.search(r"subgraph cluster_layer2_neuron3 \{(.*?)\n\t\t\}", source, re.S).group(1)
    assert "W2[3,1]" in block and "z2[3]" in block and "a2[3]" in block and "W2[4,1]" not in block
    assert "subgraph cluster" not in draw_graph(loss, model=model, group=False).source


def test_one_table_row_per_neuron():
    model, loss = xor_sample()
    source = draw_graph(loss, model=model, level="neuron").source
    for k, n in ((1, 8), (2, 8), (3, 1)):
        assert re.findall(rf"^\s*L{k} \[.*", source, re.M)[0].count('port="in') == n
    assert "L1:out3:e -> L2:in5:w" in source and "W1[1,1]" not in source
    with pytest.raises(ValueError, match="needs the model"):
        draw_graph(loss, level="neuron")


def _edge_ends(svg: ET.Element, tail: str) -> list[float]:
    """The y where each edge leaving node ``tail`` ends (its path's last point)."""
    ends = []
    for edge in svg.iter(SVG + "g"):
        if edge.get("class") == "edge" and edge.find(SVG + "title").text.startswith(tail + "->"):
            ends.append(float(edge.find(SVG + "path").get("d").split(",")[-1]))
    return ends


def _rows_y(svg: ET.Element, node: str, words: str) -> dict[str, float]:
    """The y of each text in node ``node`` that starts with ``words``."""
    for group in svg.iter(SVG + "g"):
        if group.get("class") == "node" and group.find(SVG + "title").text == node:
            return {t.text: float(t.get("y")) for t in group.iter(SVG + "text") if t.text.startswith(words)}
    raise AssertionError(f"no node {node}")


@needs_dot
def test_neurons_are_drawn_in_order_and_edges_meet_their_rows():
    # Before: a 2-3-1 net showed neurons 2, 3, 1 and x1's arrow landed on another neuron's row.
    model = MLP(2, [3, 1], seed=0)
    x1, x2 = Value(0.5, "x1"), Value(-1.0, "x2")
    loss = (model([x1, x2]) - 1.0) ** 2
    loss.backward()
    graph = draw_graph(loss, model=model, level="neuron")
    svg = ET.fromstring(graph.pipe(format="svg"))
    rows = _rows_y(svg, "L1", "neuron ")
    assert list(rows) == ["neuron 1", "neuron 2", "neuron 3"]
    assert rows["neuron 1"] < rows["neuron 2"] < rows["neuron 3"]  # top to bottom
    x1_node = next(line.split()[0] for line in graph.source.splitlines() if "<td>x1</td>" in line)
    ends = sorted(_edge_ends(svg, x1_node))
    assert len(ends) == 3
    for end, (_, y) in zip(ends, sorted(rows.items(), key=lambda r: r[1])):
        assert abs(end - y) < 12, (ends, rows)  # each arrow lands on its own neuron's row


def test_a_20000_node_chain_is_collapsed_or_refused():
    x = Value(1.0, "x")
    y = x
    for _ in range(20_000):
        y = y * 1.0001 + 0.5
    y.backward()
    graph = draw_graph(y, max_nodes=50)
    assert len(re.findall(r"^\s*v\d+ \[", graph.source, re.M)) == 50
    assert "showing the 50 values nearest the output of 40,001" in graph.source
    assert "… 39,951 more values" in graph.source
    with pytest.raises(GraphTooLarge, match=r"40,001 values, more than max_nodes=50: pass max_nodes=40001"):
        draw_graph(y, max_nodes=50, collapse=False)


@needs_dot
def test_a_value_shared_along_a_long_chain_keeps_the_layout_linear():
    # y = y + x: every node uses x. One box for x with 400 edges of growing length makes
    # Graphviz's layout quadratic (minutes); a dotted copy of x beside each far use does not.
    x = Value(1.0, "x")
    y = x
    for _ in range(20_000):
        y = y + x
    graph = draw_graph(y)
    assert graph.source.count(' [label="x (1.0000)"') > 300
    done = subprocess.run(["dot", "-Tsvg"], input=graph.source, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and ET.fromstring(done.stdout).tag == SVG + "svg"


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.5, "0.5000"),
        (0.00123456, "0.001235"),
        (123.456, "123.4560"),
        (1.2345e-5, "1.234e-05"),
        (-98765.4, "-98765.4000"),
        (123456.7, "1.235e+05"),
        (0.0, "0.0000"),
        (float("inf"), "inf"),
        (float("nan"), "nan"),
    ],
)
def test_numbers_keep_four_significant_digits(x, text):
    assert number(x) == text


def test_bad_arguments():
    with pytest.raises(TypeError, match="takes a Value, not float"):
        draw_graph(1.0)
    with pytest.raises(ValueError, match="color_by"):
        draw_graph(small(), color_by="heat")
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(small(), max_nodes=0)


@needs_dot
def test_labels_are_escaped_for_html_labels():
    v = Value(1.0, 'a|b{c}<d>"e&')
    graph = draw_graph(v * 2)
    line_of(graph.source, 'a|b{c}<d>"e&')  # as &lt; &gt; &quot; &amp; entities
    text = " ".join(t.text or "" for t in ET.fromstring(graph.pipe(format="svg")).iter(SVG + "text"))
    assert 'a|b{c}<d>"e&' in text
    model = MLP(2, [1], seed=0)
    assert "W1[1,1]" in draw_graph(mse(model([1.0, 2.0]), 0.0), model=model).source


# -- any string draws: valid DOT, well-formed SVG, the text shown (issue 10, findings 10 and 15) --

_ODD = ["end\\", "<b>bold</b>", "<<x>>", "a&amp;b", "&#65;", "\\N \\G \\l", "x\x00y", "\x01", "esc\x1b[0m", "\ud800",
        "two\nlines", "{a|b}", 'q"uote', "tab\there", "\ufffe\uffff", "\x85", "", " ", "π ∂C/∂z"]  # fmt: skip


def _svg_text(svg: bytes) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]


def _shown(text: str) -> list[str]:
    """The lines of ``text`` as the drawing must show them: verbatim, except characters
    SVG cannot hold, which appear as their Python escape."""
    visible = re.sub(
        "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]",
        lambda m: m.group().encode("unicode_escape").decode("ascii"),
        text,
    )
    return [line.strip() for line in visible.split("\n") if line.strip()]


def _check_drawn(text: str) -> None:
    x = Value(1.5, text)
    y = (x * 2.0).tanh()
    y.label = text
    y.backward()
    svg = draw_graph(y, title=text).pipe(format="svg")  # dot accepts the DOT text ...
    shown = " ".join(" ".join(t.split()) for t in _svg_text(svg))  # ... the SVG is well-formed XML ...
    for line in _shown(text):  # ... and every line of the label appears, as written
        assert " ".join(line.split()) in shown, (line, shown)
    assert b"<title>%3</title>" not in svg


@needs_dot
@pytest.mark.parametrize("text", _ODD, ids=repr)
def test_odd_labels_and_titles_draw_verbatim(text):
    _check_drawn(text)


@needs_dot
@given(st.text(st.characters(codec=None, categories=None), max_size=12))
def test_any_label_draws_into_well_formed_svg(text):
    _check_drawn(text)


def test_a_model_whose_parameters_are_not_in_the_graph_is_refused():
    _, loss = xor_sample()
    other = MLP(2, [8, 8, 1], seed=2)
    with pytest.raises(ValueError, match="none of the model's parameters is in this graph"):
        draw_graph(loss, model=other)
    with pytest.raises(TypeError, match="title must be a str"):
        draw_graph(loss, title=3)


# -- backslashes and any length draw verbatim, wherever a label is drawn (issue 22, defects 3, 9) --

XLINK = "{http://www.w3.org/1999/xlink}"
_BACKSLASHED = ["\\N", "\\G", "\\E", "\\T", "\\H", "\\L", "\\l", "\\n", "\\r", "\\\\", "a\\b", "a\\\\b", "end\\", "\\"]


def _squeezed(text: str) -> str:
    return " ".join(text.split())


def _drawn(svg: bytes) -> tuple[str, list[str]]:
    """All the text of a drawing, and its tooltips, whitespace squeezed."""
    root = ET.fromstring(svg)
    tips = [_squeezed(a.get(f"{XLINK}title", "")) for a in root.iter(f"{SVG}a")]
    return _squeezed(" ".join(_svg_text(svg))), tips


def _assert_label_drawn(svg: bytes, text: str, where: str = "") -> None:
    """``text`` is shown verbatim (as ``where``): whole, or cut with "…" and whole in a tooltip."""
    from viz.graph import LABEL_CHARS

    shown, tips = _drawn(svg)
    if len(text) <= LABEL_CHARS:
        for line in _shown(text):
            assert _squeezed(line) in shown, (where, line, shown[:300])
        return
    cut = text[: LABEL_CHARS - 1] + "…"
    for line in _shown(cut):
        assert _squeezed(line) in shown, (where, line, shown[:300])
    whole = _squeezed(" ".join(_shown(text)))
    assert any(whole in tip for tip in tips), (where, whole[:80], [t[:80] for t in tips])


def _every_place_a_label_is_drawn(text: str) -> list[tuple[str, bytes]]:
    """A drawing of ``text`` as each kind of label, the title something else."""
    drawings = []
    x = Value(1.5, text)
    y = x * 2.0
    drawings.append(("a value's box", draw_graph(y, title="T").pipe(format="svg")))
    model = MLP(2, [2, 1], seed=0)
    model.layers[0].neurons[0].w[0].label = text
    out = model([0.5, -1.0])
    out.label = text
    loss = mse(out, 1.0)
    loss.backward()
    drawings.append(("a parameter table", draw_graph(loss, model=model, title="T").pipe(format="svg")))
    drawings.append(("a layer table", draw_graph(loss, model=model, level="neuron", title="T").pipe(format="svg")))
    z = x
    for _ in range(5):
        z = z * 1.5
    far = z + x  # x drawn again, dotted, beside this sum
    drawings.append(("a dotted copy", draw_graph(far, title="T").pipe(format="svg")))
    drawings.append(("the title", draw_graph(Value(1.0, "v") * 2, title=text).pipe(format="svg")))
    return drawings


@needs_dot
@pytest.mark.parametrize("text", _BACKSLASHED, ids=repr)
def test_backslashes_in_any_label_are_drawn_as_written(text):
    # Before: \N drew the node's name (v0), \G the graph's, \E nothing, \\ one backslash.
    for where, svg in _every_place_a_label_is_drawn(text):
        shown, _ = _drawn(svg)
        assert text in shown, (where, text, shown[:200])


@needs_dot
@pytest.mark.parametrize("length", [16_385, 17_000, 100_000])
def test_a_label_or_title_of_any_length_is_cut_and_kept_whole_in_the_tooltip(length):
    # Before: dot refused strings over 16 KB (CalledProcessError), and at 100 KB the pipe broke.
    text = ("a\\b&<i>\"'" + "x" * 37 + "\n") * (length // 47) + "end"
    for where, svg in _every_place_a_label_is_drawn(text):
        _assert_label_drawn(svg, text, where)
    hand = Value(2.0, "h")
    hand_written = Value(hand.data * 3, (hand,), "op" * (length // 2))  # a hand-written op's long name
    svg = draw_graph(hand_written, title="T").pipe(format="svg")
    _assert_label_drawn(svg, "op" * (length // 2))


_ESCAPES = st.text(st.sampled_from("\\NGELTHlnr\"'<>&;#x0 \n\t\x01\ud800é𝑥…{}|"), max_size=40)


@needs_dot
@settings(max_examples=max(10, settings.default.max_examples // 4))  # five drawings each
@given(_ESCAPES, st.sampled_from([1, 1, 1, 10, 600]))
def test_any_string_of_escapes_draws_verbatim_as_every_kind_of_label(text, repeat):
    """The fuzzer of label escapes: backslashes, quotes, HTML, entities, any length."""
    text *= repeat
    for where, svg in _every_place_a_label_is_drawn(text):
        if text.strip():
            _assert_label_drawn(svg, text, where)


def test_html_labels_and_quoted_strings_share_one_escaping():
    from viz.graph import _dot_text, html_text

    for text in [*_BACKSLASHED, "a&b", "x\x01", "\ud800"]:
        assert html.unescape(html_text(text)) == html.unescape(_dot_text(text))


@needs_dot
@pytest.mark.parametrize("text", ["\t", "a\tb", " \t ", "a\rb", "\r"], ids=repr)
def test_tabs_and_lone_carriage_returns_draw_in_html_labels(text):
    # Found by the fuzzer above: a tab alone in a table cell was a syntax error for dot,
    # and in any HTML-like label a tab or a lone \r was dropped ("a\tb" drew "ab").
    for where, svg in _every_place_a_label_is_drawn(text):
        if text.strip():
            shown, _ = _drawn(svg)
            assert _squeezed(text.replace("\r", "\n")) in shown, where
