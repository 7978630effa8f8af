// The step-through page's player. It only shows: every number on the page, every
// formula and every label comes from the steps tinygrad_hw computed in Python and put
// in the "data" element. Nothing here does arithmetic on a value.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("data").textContent);
  const steps = data.steps;
  const SVG = "http://www.w3.org/2000/svg";
  const READABLE = 0.7;  // the smallest scale the page opens at: below it, text is too small to read

  function push(map, key, value) {
    if (!map.has(key)) map.set(key, []);
    map.get(key).push(value);
  }
  function element(tag, text, className) {
    const e = document.createElement(tag);
    e.textContent = text;
    if (className) e.className = className;
    return e;
  }

  // A view is one drawing on the page -- the graph, or a neuron unfolded -- and where each
  // value (by its id, v7) is drawn in it. A place is a box (an SVG node titled so, with its
  // op's oval "<place>_op") or a table row, whose cells Graphviz wrote as groups
  // "a_<place>.c<n>"; "cells" names the one cell of a row that shows a value, if any.
  function View(svg, places, cells, labels) {
    this.svg = svg;
    this.layer = svg.querySelector("g.graph") || svg;
    const byPlace = new Map();
    const byAnchor = new Map();
    for (const g of svg.querySelectorAll("g.node")) {
      const title = g.querySelector(":scope > title");
      if (!title) continue;
      const name = title.textContent;
      push(byPlace, name.endsWith("_op") ? name.slice(0, -3) : name, g);
    }
    for (const g of svg.querySelectorAll('g[id^="a_"]')) {
      const anchor = g.id.slice(2);
      byAnchor.set(anchor, g);
      const cut = anchor.lastIndexOf(".c");
      if (cut > 0) push(byPlace, anchor.slice(0, cut), g);
    }
    this.byPlace = byPlace;
    this.placeOf = new Map(Object.entries(places));
    this.parts = new Map();  // value id -> the groups that show it
    this.idsOf = new Map();  // group -> the value ids it shows
    for (const [id, place] of this.placeOf) {
      const names = (cells && cells[id]) || [place];
      const groups = [];
      for (const name of names) {
        for (const g of byAnchor.has(name) ? [byAnchor.get(name)] : byPlace.get(name) || []) groups.push(g);
      }
      this.parts.set(id, groups);
      for (const g of groups) push(this.idsOf, g, id);
    }
    this.gradText = new Map();  // value id -> its "grad …" line, to show the gradient as it is at each step
    for (const [id, groups] of this.parts) {
      const found = [];
      for (const g of groups) for (const t of g.querySelectorAll("text")) if (t.textContent.startsWith("grad ")) found.push(t);
      if (found.length === 1) this.gradText.set(id, found[0]);
    }
    // Edges carry ids "edge:<tail place>-><head place>"; a tail drawn again beside its head
    // is "<place>_at_<head>", and an op's oval passes its value on by "<place>_op".
    this.edges = [];
    for (const g of svg.querySelectorAll('g.edge[id^="edge:"]')) {
      const [tail, head] = g.id.slice(5).split("->");
      const copy = /^(v\d+)_at_v\d+$/.exec(tail);
      const from = copy ? copy[1] : tail;
      const label = labels ? labels[from + "->" + head] : null;
      const edge = { g: g, tail: from, head: head, label: label, path: g.querySelector("path") };
      const title = g.querySelector("title");
      if (title && label) title.textContent = label[0];
      this.edges.push(edge);
    }
  }

  const graph = new View(document.querySelector("#graph svg"), data.graph.places, data.graph.cells, data.graph.labels);
  const neurons = new Map();  // "k,i" -> {view, box, row, title}
  for (const n of data.neurons) {
    const box = document.querySelector('.neuron-view[data-key="' + n.key + '"]');
    if (box) neurons.set(n.key, { view: new View(box.querySelector("svg"), n.places, null, null), box: box, row: n.row, title: n.title });
  }
  const neuronOfRow = new Map([...neurons].map(function (kv) { return [kv[1].row, kv[0]]; }));
  let unfolded = null;  // the key of the neuron shown in full, or null

  // For each value id: the step that computes it (forward) and the one that passes its
  // gradient on (backward), and the last step that adds to its gradient.
  const forwardStep = new Map();
  const backwardStep = new Map();
  const lastAdded = new Map();
  steps.forEach(function (step, i) {
    const table = step.phase === "forward" ? forwardStep : backwardStep;
    for (const id of step.ids) if (!table.has(id)) table.set(id, i);
    for (const c of step.contributions || []) lastAdded.set(c.child_id, i);
  });
  const firstBackward = steps.findIndex(function (step) { return step.phase === "backward"; });

  // Marks: values and edges the caller flagged ("yours: …, right: …"), outlined, with
  // their text beside them, and said again in the steps that show them.
  const marks = data.marks || [];
  if (marks.length) graph.svg.viewBox.baseVal.width += 200;  // room for the texts on the right
  for (const m of marks) {
    const groups = m.edge
      ? graph.edges.filter(function (e) { return e.tail + "->" + e.head === m.edge; }).map(function (e) { return e.g; })
      : graph.byPlace.get(m.node) || [];
    for (const g of groups) g.classList.add("marked");
    const last = groups[groups.length - 1];
    if (!last) continue;
    const b = last.getBBox();
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("class", "mark-label");
    label.setAttribute("x", b.x + b.width + 6);
    label.setAttribute("y", b.y + 11);
    m.text.split(", ").forEach(function (line, k) {  // one line per part: narrow, beside its box
      const span = document.createElementNS(SVG, "tspan");
      span.setAttribute("x", b.x + b.width + 6);
      span.setAttribute("dy", k ? "1.2em" : "0");
      span.textContent = line;
      label.appendChild(span);
    });
    graph.layer.appendChild(label);  // on top of every box, and not faded with its node
  }
  function marksOf(node, edge) {
    return marks.filter(function (m) { return edge ? m.edge === edge : !m.edge && m.node === node; });
  }

  let index = 0;
  let timer = null;

  // -- lighting the drawings -----------------------------------------------------------------

  function gradientsAt(i) {
    // each value's gradient after step i (none before the backward pass: all are zero)
    if (firstBackward < 0 || i < firstBackward) return new Map();
    const now = new Map([[steps[firstBackward].ids[0], steps[firstBackward].shown_grad]]);
    for (let k = firstBackward; k <= i; k++) {
      for (const c of steps[k].contributions) now.set(c.child_id, c.shown.after);
    }
    return now;
  }

  function inputsOf(step) {
    return step.phase === "forward" ? step.input_ids || [] : step.contributions.map(function (c) { return c.child_id; });
  }

  function light(view, step, reached, gradients) {
    const forward = step.phase === "forward";
    const current = new Set(step.ids);
    const inputs = new Set(inputsOf(step));
    for (const [g, ids] of view.idsOf) {
      const stepped = ids.filter(function (id) {
        return forward ? forwardStep.has(id) : backwardStep.has(id) || lastAdded.has(id);
      });
      g.classList.toggle("pending", stepped.length > 0 && !stepped.some(function (id) { return reached.has(id); }));
      g.classList.toggle("current", ids.some(function (id) { return current.has(id); }));
      g.classList.toggle("input", !g.classList.contains("current") && ids.some(function (id) { return inputs.has(id); }));
    }
    const heads = new Set(step.ids.map(function (id) { return view.placeOf.get(id); }));
    const tails = new Set([...inputs].map(function (id) { return view.placeOf.get(id); }));
    for (const edge of view.edges) {
      const own = edge.tail === edge.head + "_op";
      edge.active = heads.has(edge.head) && (own || tails.has(edge.tail)) && !heads.has(edge.tail);
      edge.g.classList.toggle("active", edge.active);
    }
    for (const [id, text] of view.gradText) {
      const now = gradients.get(id);
      text.textContent = "grad " + (now === undefined ? "0" : now);
    }
  }

  function mark(step) {
    const reached = new Set();  // computed (forward), or given its gradient (backward)
    const gradients = gradientsAt(index);
    if (step.phase === "forward") {
      for (let i = 0; i <= index; i++) for (const id of steps[i].ids) reached.add(id);
    } else {
      for (const id of gradients.keys()) reached.add(id);
    }
    light(graph, step, reached, gradients);
    for (const n of neurons.values()) light(n.view, step, reached, gradients);
    placeLabels(graph);
  }

  // -- edge labels: placed where they fit, the current step's first -----------------------------

  let obstacles = null;  // boxes, in the drawing's own units: nothing may sit on them
  function boxesOf(view) {
    const found = [];
    const shapes = view.svg.querySelectorAll("g.node, g.cluster > text, g.graph > text, text.mark-label");
    for (const g of shapes) {
      const b = g.getBBox();
      if (b.width > 0) found.push({ x: b.x, y: b.y, width: b.width, height: b.height });
    }
    return found;
  }
  function overlaps(a, b) {
    const gap = 1;
    return a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;
  }
  // Where along an edge to try its label: from the middle out, or first near the end where
  // it is apart from the others (near the tail of edges fanning into one head, and back).
  const MIDDLE = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.12, 0.88, 0.06, 0.94];
  const TAIL = [0.22, 0.3, 0.15, 0.38, 0.1, 0.46, 0.55, 0.65, 0.75, 0.85, 0.92];
  const HEAD = TAIL.map(function (t) { return 1 - t; });
  function spots(edge, edges) {
    const heads = edges.filter(function (e) { return e.head === edge.head; }).length;
    const tails = edges.filter(function (e) { return e.tail === edge.tail; }).length;
    return heads > tails ? TAIL : tails > heads ? HEAD : MIDDLE;
  }

  function placeLabels(view) {
    for (const old of view.svg.querySelectorAll("g.edge-labels")) old.remove();
    if (!document.getElementById("edge-labels").checked) return;
    if (obstacles === null) obstacles = boxesOf(view);
    const layer = document.createElementNS(SVG, "g");
    layer.setAttribute("class", "edge-labels");
    view.layer.appendChild(layer);
    const bounds = view.layer.getBBox();
    const placed = [];
    const order = view.edges.filter(function (e) { return e.label && e.path; });
    order.sort(function (a, b) { return (b.active ? 1 : 0) - (a.active ? 1 : 0); });
    const active = order.filter(function (e) { return e.active; });
    for (const edge of order) {
      edge.spots = spots(edge, edge.active ? active : order);
      const text = document.createElementNS(SVG, "text");
      text.setAttribute("class", "edge-label" + (edge.active ? " active" : ""));
      const tip = document.createElementNS(SVG, "title");
      tip.textContent = edge.label[0];
      layer.appendChild(text);
      const spot = fit(edge, text, bounds, placed);
      if (spot === null) {
        text.remove();
        continue;
      }
      text.appendChild(tip);
      placed.push(spot);
    }
  }

  function fit(edge, text, bounds, placed) {
    // the first spot along the edge, for the whole label (or, on an edge of the current
    // step, else its number alone), that sits on no box and no label placed before
    const length = edge.path.getTotalLength();
    for (const words of edge.active ? edge.label : edge.label.slice(0, 1)) {
      text.textContent = words;
      text.setAttribute("x", 0);
      text.setAttribute("y", 0);
      const size = text.getBBox();
      for (const t of edge.spots) {
        const p = edge.path.getPointAtLength(length * t);
        // centred on the edge, above or below it; else beside it, right or left
        for (const [dx, dy] of [[-size.width / 2, -3], [-size.width / 2, size.height - 1], [4, 4], [-size.width - 4, 4]]) {
          const box = { x: p.x + dx + size.x, y: p.y + dy + size.y, width: size.width, height: size.height };
          if (box.x < bounds.x || box.y < bounds.y || box.x + box.width > bounds.x + bounds.width) continue;
          if (box.y + box.height > bounds.y + bounds.height) continue;
          if (obstacles.some(function (o) { return overlaps(box, o); })) continue;
          if (placed.some(function (o) { return overlaps(box, o); })) continue;
          text.setAttribute("x", p.x + dx);
          text.setAttribute("y", p.y + dy);
          return box;
        }
      }
    }
    return null;
  }

  // -- the panel -----------------------------------------------------------------------------

  function latexControl(latex) {
    // "copy LaTeX": to the clipboard where the browser allows it, and shown to select by hand
    const wrap = element("span", "", "latex");
    const button = element("button", "copy LaTeX", "copy-latex");
    button.type = "button";
    button.dataset.latex = latex;
    const source = element("code", latex, "latex-source");
    source.hidden = true;
    button.addEventListener("click", function () {
      source.hidden = false;
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      let copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      if (!copied && navigator.clipboard) {
        navigator.clipboard.writeText(latex).then(
          function () { button.textContent = "copied"; },
          function () { button.textContent = "selected: copy it"; }
        );
      } else {
        button.textContent = copied ? "copied" : "selected: copy it";
      }
    });
    wrap.appendChild(button);
    wrap.appendChild(source);
    return wrap;
  }

  function panel(step) {
    document.getElementById("step-title").textContent = step.title;
    const text = document.getElementById("step-text");
    text.textContent = "";
    step.text.forEach(function (line, k) {
      const p = element("p", line, k === 0 && step.chain ? "chain" : "");
      text.appendChild(p);
      if (k === 0 && step.latex) p.appendChild(latexControl(step.latex));
    });
    for (const m of marksOf(step.node)) text.appendChild(element("p", "⚑ " + m.text, "mark"));
    const list = document.getElementById("contributions");
    list.textContent = "";
    for (const c of step.phase === "backward" ? step.contributions : []) {
      const block = element("div", "", "contribution");
      block.dataset.child = c.child;
      block.dataset.local = c.local;
      block.dataset.product = c.product;
      block.dataset.after = c.after;
      block.appendChild(element("p", "into " + c.label, "into"));
      block.appendChild(element("p", "local: " + c.rule, "math"));
      const chain = element("p", "chain: " + c.chain, "math");
      chain.appendChild(latexControl(c.latex));
      block.appendChild(chain);
      block.appendChild(element("p", c.label + ".grad += " + c.shown.product + " → " + c.shown.after, "math sum"));
      for (const m of marksOf(null, c.child + "->" + step.node)) block.appendChild(element("p", "⚑ " + m.text, "mark"));
      list.appendChild(block);
    }
    document.getElementById("position").textContent =
      step.phase + " · step " + (index + 1) + " of " + steps.length;
  }

  // -- moving -----------------------------------------------------------------------------------

  function neuronOf(step) {
    for (const place of step.nodes) if (neuronOfRow.has(place)) return neuronOfRow.get(place);
    return null;
  }

  function go(i) {
    index = Math.max(0, Math.min(steps.length - 1, i));
    const step = steps[index];
    if (document.getElementById("follow").checked && unfolded !== null) {
      const key = neuronOf(step);
      if (key !== null && key !== unfolded) unfold(key);
    }
    mark(step);
    panel(step);
    reveal(graph, step, false);
    if (unfolded !== null) reveal(neurons.get(unfolded).view, step, false);
  }

  function partsOf(view, step) {
    const parts = [];
    for (const id of step.ids) for (const g of view.parts.get(id) || []) parts.push(g);
    return parts;
  }

  function reveal(view, step, always) {
    // the step's values in the middle of the view, unless all of them already show
    const parts = partsOf(view, step);
    if (!parts.length) return;
    const area = view.svg.parentNode.closest(".scroller");
    const frame = area.getBoundingClientRect();
    const boxes = parts.map(function (g) { return g.getBoundingClientRect(); });
    const left = Math.min.apply(null, boxes.map(function (b) { return b.left; }));
    const right = Math.max.apply(null, boxes.map(function (b) { return b.right; }));
    const top = Math.min.apply(null, boxes.map(function (b) { return b.top; }));
    const bottom = Math.max.apply(null, boxes.map(function (b) { return b.bottom; }));
    const shown = left >= frame.left && right <= frame.right && top >= frame.top && bottom <= frame.bottom;
    if (shown && !always) return;
    area.scrollLeft += (left + right) / 2 - (frame.left + frame.right) / 2;
    area.scrollTop += (top + bottom) / 2 - (frame.top + frame.bottom) / 2;
  }

  function play() {
    const button = document.getElementById("play");
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
      button.textContent = "▶ play";
      return;
    }
    if (index === steps.length - 1) go(0);
    button.textContent = "⏸ pause";
    const every = 1000 / Number(document.getElementById("speed").value);
    timer = setInterval(function () {
      if (index >= steps.length - 1) play();
      else go(index + 1);
    }, every);
  }

  // -- zoom: the drawing's own size (Graphviz points) times a scale --------------------------------

  const natural = { width: graph.svg.viewBox.baseVal.width * 4 / 3, height: graph.svg.viewBox.baseVal.height * 4 / 3 };
  graph.svg.removeAttribute("width");
  graph.svg.removeAttribute("height");
  let scale = 1;
  function zoom(to) {
    scale = Math.max(0.05, Math.min(4, to));
    graph.svg.style.width = natural.width * scale + "px";
    graph.svg.style.height = natural.height * scale + "px";
    document.getElementById("scale").textContent = Math.round(scale * 100) + " %";
  }
  function fitting() {
    // the scale that shows the whole graph in its area (never larger than its own size)
    const area = document.getElementById("graph");
    return Math.min(1, (area.clientWidth - 20) / natural.width, (area.clientHeight - 20) / natural.height);
  }

  // -- unfolding a neuron ---------------------------------------------------------------------------

  function unfold(key) {
    const n = neurons.get(key);
    if (!n) return;
    unfolded = key;
    document.getElementById("neuron").hidden = false;
    for (const other of neurons.values()) other.box.hidden = other !== n;
    document.getElementById("neuron-title").textContent = n.title + " in full";
    for (const g of graph.byPlace.get(n.row) || []) g.classList.add("unfolded");
    for (const other of neurons.values()) {
      if (other !== n) for (const g of graph.byPlace.get(other.row) || []) g.classList.remove("unfolded");
    }
    mark(steps[index]);
    reveal(n.view, steps[index], true);
  }
  function fold() {
    unfolded = null;
    document.getElementById("neuron").hidden = true;
    for (const g of graph.svg.querySelectorAll(".unfolded")) g.classList.remove("unfolded");
  }

  // -- controls ------------------------------------------------------------------------------------

  function stepOf(id) {
    // clicking a value: its own step in the phase shown (in the backward pass, a leaf's
    // last gradient contribution)
    if (steps[index].phase === "backward") {
      if (backwardStep.has(id)) return backwardStep.get(id);
      if (lastAdded.has(id)) return lastAdded.get(id);
    }
    return forwardStep.get(id);
  }

  document.getElementById("page-title").textContent = data.title;
  document.getElementById("note").textContent =
    data.note + (neurons.size ? (data.note ? "\n" : "") + "Click a neuron to see it in full." : "");
  document.getElementById("first").addEventListener("click", function () { go(0); });
  document.getElementById("previous").addEventListener("click", function () { go(index - 1); });
  document.getElementById("next").addEventListener("click", function () { go(index + 1); });
  document.getElementById("last").addEventListener("click", function () { go(steps.length - 1); });
  document.getElementById("backward").addEventListener("click", function () { go(Math.max(firstBackward, 0)); });
  document.getElementById("play").addEventListener("click", play);
  document.getElementById("speed").addEventListener("change", function () {
    if (timer !== null) { play(); play(); }  // restart at the new speed
  });
  document.getElementById("edge-labels").addEventListener("change", function (e) {
    document.body.classList.toggle("edge-labels", e.target.checked);
    placeLabels(graph);
  });
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(scale * 1.25); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(scale / 1.25); });
  document.getElementById("zoom-fit").addEventListener("click", function () { zoom(fitting()); });
  document.getElementById("fold").addEventListener("click", fold);
  document.addEventListener("keydown", function (e) {
    if (e.target.tagName === "INPUT" && e.target.type === "range") return;
    if (e.key === "ArrowRight") go(index + 1);
    else if (e.key === "ArrowLeft") go(index - 1);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(steps.length - 1);
    else if (e.key === " ") play();
    else if (e.key === "+" || e.key === "=") zoom(scale * 1.25);
    else if (e.key === "-") zoom(scale / 1.25);
    else if (e.key === "f" || e.key === "F") zoom(fitting());
    else if (e.key === "Escape") fold();
    else return;
    e.preventDefault();
  });
  function onClick(g, action) {
    g.addEventListener("click", function (e) {
      e.preventDefault();  // a table cell is a link only so that Graphviz keeps its id
      e.stopPropagation();
      action();
    });
  }
  const rows = new Set();
  for (const [place, key] of neuronOfRow) {  // a neuron's row unfolds it (or folds it again)
    for (const g of graph.byPlace.get(place) || []) {
      rows.add(g);
      onClick(g, function () { if (unfolded === key) fold(); else unfold(key); });
    }
  }
  for (const view of [graph, ...[...neurons.values()].map(function (n) { return n.view; })]) {
    for (const [g, ids] of view.idsOf) {  // a value: its step
      if (rows.has(g)) continue;
      onClick(g, function () {
        const target = stepOf(ids[0]);
        if (target !== undefined) go(target);
      });
    }
  }

  window.stepThrough = {
    steps: steps,
    go: go,
    get index() { return index; },
    get scale() { return scale; },
    zoom: zoom,
    fit: function () { zoom(fitting()); },
    unfold: unfold,
    fold: fold,
    get unfolded() { return unfolded; },
  };
  // Open on the whole graph if it reads at that size; otherwise readable, on the first step.
  const whole = fitting();
  zoom(whole >= READABLE ? whole : 1);
  go(0);
  reveal(graph, steps[0], whole < READABLE);
})();
