// The step-through page's player. It only shows: every number on the page, and
// every formula, comes from the steps tinygrad_hw computed in Python and put in
// the "data" element. Nothing here does arithmetic on a value.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("data").textContent);
  const steps = data.steps;
  const svg = document.querySelector("#graph svg");

  // Where each value is drawn ("place"): a box (an SVG node titled v7, with its op's
  // oval v7_op), or a table row whose cells Graphviz wrote as groups "a_<place>.c<n>".
  const places = new Map();
  function add(place, g) {
    if (!places.has(place)) places.set(place, []);
    places.get(place).push(g);
  }
  for (const g of svg.querySelectorAll("g.node")) {
    const title = g.querySelector(":scope > title");
    if (!title) continue;
    const name = title.textContent;
    add(name.endsWith("_op") ? name.slice(0, -3) : name, g);
  }
  for (const g of svg.querySelectorAll('g[id^="a_"]')) {
    const cut = g.id.lastIndexOf(".c");
    if (cut > 2) add(g.id.slice(2, cut), g);
  }
  // Edges carry ids "edge:<tail place>-><head place>".
  const edges = [];
  for (const g of svg.querySelectorAll('g.edge[id^="edge:"]')) {
    const [tail, head] = g.id.slice(5).split("->");
    edges.push({ g: g, tail: tail, head: head, local: "" });
  }

  // The first step each place is computed in, and passes its gradient back in; the
  // last step that adds to its gradient.
  const forwardStep = new Map();
  const backwardStep = new Map();
  const lastAdded = new Map();
  steps.forEach(function (step, i) {
    const table = step.phase === "forward" ? forwardStep : backwardStep;
    if (!table.has(step.node)) table.set(step.node, i);
    for (const c of step.contributions || []) lastAdded.set(c.child, i);
  });
  const firstBackward = steps.findIndex(function (step) { return step.phase === "backward"; });

  // Each edge's local derivatives, as its tooltip and (on request) its label.
  for (const edge of edges) {
    const words = [];
    for (const step of steps) {
      if (step.phase !== "backward" || step.node !== edge.head) continue;
      for (const c of step.contributions) {
        if (c.child === edge.tail) words.push(c.derivative + " = " + c.shown.local);
      }
    }
    edge.local = words.join(", ");
    const title = edge.g.querySelector("title");
    if (title && edge.local) title.textContent = edge.local;
  }

  // The "grad …" line of each box drawn for one value, so a step can show the gradient
  // as it is at that moment of the backward pass.
  const gradText = new Map();
  for (const [place, parts] of places) {
    const found = [];
    for (const g of parts) {
      for (const t of g.querySelectorAll("text")) if (t.textContent.startsWith("grad ")) found.push(t);
    }
    if (found.length === 1) gradText.set(place, found[0]);
  }

  // Marks: values and edges the caller flagged ("yours: …, right: …"), outlined, with
  // their text beside them, and said again in the steps that show them.
  const marks = data.marks || [];
  if (marks.length) svg.viewBox.baseVal.width += 200;  // room for the texts on the right
  for (const m of marks) {
    const groups = m.edge
      ? edges.filter(function (e) { return e.tail + "->" + e.head === m.edge; }).map(function (e) { return e.g; })
      : places.get(m.node) || [];
    for (const g of groups) g.classList.add("marked");
    const last = groups[groups.length - 1];
    if (!last) continue;
    const b = last.getBBox();
    const label = document.createElementNS("http://www.w3.org/2000/svg", "text");
    label.setAttribute("class", "mark-label");
    label.setAttribute("x", b.x + b.width + 6);
    label.setAttribute("y", b.y + 11);
    m.text.split(", ").forEach(function (line, k) {  // one line per part: narrow, beside its box
      const span = document.createElementNS("http://www.w3.org/2000/svg", "tspan");
      span.setAttribute("x", b.x + b.width + 6);
      span.setAttribute("dy", k ? "1.2em" : "0");
      span.textContent = line;
      label.appendChild(span);
    });
    last.parentNode.appendChild(label);  // on top of every box, and not faded with its node
  }
  function marksOf(node, edge) {
    return marks.filter(function (m) { return edge ? m.edge === edge : !m.edge && m.node === node; });
  }

  let index = 0;
  let timer = null;

  // Zoom: the drawing's own size (Graphviz points) times a scale.
  const box = svg.viewBox.baseVal;
  const natural = { width: box.width * 4 / 3, height: box.height * 4 / 3 };  // pt to CSS px
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  let scale = 1;
  function zoom(to) {
    scale = Math.max(0.1, Math.min(4, to));
    svg.style.width = natural.width * scale + "px";
    svg.style.height = natural.height * scale + "px";
    document.getElementById("zoom-fit").textContent = Math.round(scale * 100) + " %";
    labelEdges(document.getElementById("edge-labels").checked);
  }
  function fitting() {
    // the whole graph in view, if its text stays readable (≥ 75 %); otherwise as large
    // as that and scrolled to the step shown
    const area = document.getElementById("graph");
    const whole = Math.min((area.clientWidth - 20) / natural.width, (area.clientHeight - 20) / natural.height);
    return Math.min(1, Math.max(0.75, whole));
  }

  function element(tag, text, className) {
    const e = document.createElement(tag);
    e.textContent = text;
    if (className) e.className = className;
    return e;
  }

  function gradientsAt(i) {
    // each place's gradient after step i (none before the backward pass: all are zero)
    if (firstBackward < 0 || i < firstBackward) return new Map();
    const now = new Map([[steps[firstBackward].node, steps[firstBackward].shown_grad]]);
    for (let k = firstBackward; k <= i; k++) {
      for (const c of steps[k].contributions) now.set(c.child, c.shown.after);
    }
    return now;
  }

  function mark(step) {
    const forward = step.phase === "forward";
    const reached = new Set();  // computed (forward), or given its gradient (backward)
    const gradients = gradientsAt(index);
    for (let i = 0; i <= index; i++) if (forward) reached.add(steps[i].node);
    if (!forward) for (const place of gradients.keys()) reached.add(place);
    for (const [place, parts] of places) {
      const stepped = forward ? forwardStep.has(place) : backwardStep.has(place) || lastAdded.has(place);
      for (const g of parts) {
        g.classList.toggle("pending", stepped && !reached.has(place));
        g.classList.toggle("current", place === step.node);
        g.classList.remove("input");
      }
    }
    const neighbours = forward ? step.inputs || [] : step.contributions.map(function (c) { return c.child; });
    for (const place of neighbours) {
      if (place !== step.node) for (const g of places.get(place) || []) g.classList.add("input");
    }
    for (const edge of edges) edge.g.classList.toggle("active", edge.head === step.node);
    for (const [place, text] of gradText) {
      const now = gradients.get(place);
      text.textContent = "grad " + (now === undefined ? "0" : now);
    }
  }

  function panel(step) {
    document.getElementById("step-title").textContent = step.title;
    const text = document.getElementById("step-text");
    text.textContent = "";
    for (const line of step.text || []) text.appendChild(element("p", line));
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
      block.appendChild(element("p", "local: " + c.derivative + ": " + c.rule, "math"));
      block.appendChild(element("p", "× upstream: " + c.shown.local + " · " + c.shown.upstream + " = " + c.shown.product, "math"));
      block.appendChild(element("p", c.label + ".grad += " + c.shown.product + " → " + c.shown.after, "math sum"));
      for (const m of marksOf(null, c.child + "->" + step.node)) block.appendChild(element("p", "⚑ " + m.text, "mark"));
      list.appendChild(block);
    }
    document.getElementById("position").textContent =
      step.phase + " · step " + (index + 1) + " of " + steps.length;
  }

  function go(i) {
    index = Math.max(0, Math.min(steps.length - 1, i));
    const step = steps[index];
    mark(step);
    panel(step);
    reveal(places.get(step.node) || []);
  }

  function reveal(parts) {
    // scroll the step's node (box and op) to the middle of the view, unless all of it shows
    if (!parts.length) return;
    const area = document.getElementById("graph").getBoundingClientRect();
    const boxes = parts.map(function (g) { return g.getBoundingClientRect(); });
    const shown = boxes.every(function (b) {
      return b.top >= area.top && b.bottom <= area.bottom && b.left >= area.left && b.right <= area.right;
    });
    if (!shown) parts[parts.length - 1].scrollIntoView({ block: "center", inline: "center" });
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

  function labelEdges(on) {
    for (const old of svg.querySelectorAll("text.edge-label")) old.remove();
    if (!on) return;
    for (const edge of edges) {
      const path = edge.g.querySelector("path");
      if (!edge.local || !path) continue;
      const middle = path.getPointAtLength(path.getTotalLength() / 2);
      const label = document.createElementNS("http://www.w3.org/2000/svg", "text");
      label.setAttribute("class", "edge-label");
      label.setAttribute("x", middle.x);
      label.setAttribute("y", middle.y - 3);
      label.textContent = edge.local;
      edge.g.appendChild(label);
    }
  }

  function stepOf(place) {
    // clicking a value: its own step in the phase shown (in the backward pass, a leaf's
    // last gradient contribution)
    if (steps[index].phase === "backward") {
      if (backwardStep.has(place)) return backwardStep.get(place);
      if (lastAdded.has(place)) return lastAdded.get(place);
    }
    return forwardStep.get(place);
  }

  document.getElementById("page-title").textContent = data.title;
  document.getElementById("note").textContent = data.note;
  document.getElementById("first").addEventListener("click", function () { go(0); });
  document.getElementById("previous").addEventListener("click", function () { go(index - 1); });
  document.getElementById("next").addEventListener("click", function () { go(index + 1); });
  document.getElementById("last").addEventListener("click", function () { go(steps.length - 1); });
  document.getElementById("backward").addEventListener("click", function () { go(Math.max(firstBackward, 0)); });
  document.getElementById("play").addEventListener("click", play);
  document.getElementById("speed").addEventListener("change", function () {
    if (timer !== null) { play(); play(); }  // restart at the new speed
  });
  document.getElementById("edge-labels").addEventListener("change", function (e) { labelEdges(e.target.checked); });
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(scale * 1.25); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(scale / 1.25); });
  document.getElementById("zoom-fit").addEventListener("click", function () { zoom(fitting()); });
  document.addEventListener("keydown", function (e) {
    if (e.target.tagName === "INPUT" && e.target.type === "range") return;
    if (e.key === "ArrowRight") go(index + 1);
    else if (e.key === "ArrowLeft") go(index - 1);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(steps.length - 1);
    else if (e.key === " ") play();
    else return;
    e.preventDefault();
  });
  for (const [place, parts] of places) {
    for (const g of parts) {
      g.addEventListener("click", function (e) {
        e.preventDefault();  // a table cell is a link only so that Graphviz keeps its id
        e.stopPropagation();
        const target = stepOf(place);
        if (target !== undefined) go(target);
      });
    }
  }
  window.stepThrough = { steps: steps, go: go, get index() { return index; }, zoom: zoom };
  zoom(fitting());
  go(0);
})();
