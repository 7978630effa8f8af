// The training page's player. It only shows what Python computed: for the frame
// under the slider it swaps each run's pictures, edge classes, marks and texts,
// and moves the loss cursor. It does no arithmetic: the slider steps itself
// (stepUp, stepDown), and every number and position comes from the data.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('data').textContent);
  const slider = document.getElementById('slider');
  const playButton = document.getElementById('play');
  const speed = document.getElementById('speed');
  const info = document.getElementById('info');
  const cursor = document.getElementById('cursor');
  let timer = null;
  let hovered = null; // {run, neuron}
  let picked = null; // {run, sample}

  const runs = data.runs.map(function (run, k) {
    const el = document.querySelector('section.run[data-run="' + k + '"]');
    el.querySelector('.settings').textContent = run.settings;
    el.querySelector('.summary').textContent = run.summary;
    el.querySelector('.diagnosis').textContent = run.diagnosis;
    return {
      data: run, el: el, shown: null, marked: [],
      atlas: el.querySelectorAll('image.atlas'),
      boundary: el.querySelectorAll('image.boundary'),
      edges: el.querySelectorAll('line.edge'),
      points: el.querySelectorAll('circle.point'),
      neurons: el.querySelectorAll('g.neuron'),
      dot: document.querySelector('circle.here[data-run="' + k + '"]'),
    };
  });

  data.speeds.forEach(function (pair) {
    const option = document.createElement('option');
    option.textContent = pair[0];
    option.value = pair[1];
    speed.appendChild(option);
  });
  speed.value = data.speeds[1][1];

  function position() { return Number(slider.value); }

  function showRun(run, frame) {
    const d = run.data;
    if (run.shown === frame) return;
    run.shown = frame;
    run.atlas.forEach(function (img) { img.setAttribute('href', d.atlas[frame]); });
    run.boundary.forEach(function (img) { img.setAttribute('href', d.boundary[frame]); });
    const edges = d.edges[frame];
    run.edges.forEach(function (line, k) { line.dataset.w = edges[k]; });
    const wrong = d.wrong[frame];
    run.points.forEach(function (point, k) { point.dataset.wrong = wrong[k]; });
    run.el.querySelector('.label').textContent = d.labels[frame];
    run.el.querySelector('.loss').textContent = d.loss[frame];
    run.el.querySelector('.flags').textContent = d.flags[frame];
    run.marked.forEach(function (el) { el.removeAttribute('data-mark'); });
    run.marked = [];
    d.marks[frame].split(' ').filter(Boolean).forEach(function (token) {
      const parts = token.split(':');
      const el = run.el.querySelector('[data-id="' + parts[1] + '"]');
      if (el) { el.setAttribute('data-mark', parts[0]); run.marked.push(el); }
    });
    const dot = d.dots[frame];
    if (dot) {
      run.dot.setAttribute('cx', dot[0]); run.dot.setAttribute('cy', dot[1]);
      run.dot.style.display = '';
    } else {
      run.dot.style.display = 'none';
    }
  }

  function show() {
    const t = position();
    runs.forEach(function (run, k) { showRun(run, data.at[k][t]); });
    cursor.setAttribute('x1', data.cursor[t]);
    cursor.setAttribute('x2', data.cursor[t]);
    document.getElementById('position').textContent = data.positions[t];
    if (hovered) describeNeuron(hovered.run, hovered.neuron);
    else if (picked) describeSample(picked.run, picked.sample);
  }

  function line(text, cls) {
    const p = document.createElement('p');
    p.textContent = text;
    if (cls) p.className = cls;
    return p;
  }

  function describeNeuron(k, n) {
    const run = runs[k];
    const d = run.data;
    const frame = data.at[k][position()];
    const template = d.formulas[n];
    const params = d.params[frame].split('|');
    const terms = template.params.map(function (p, i) { return params[p] + template.names[i]; });
    info.replaceChildren(
      line(d.name + ', ' + d.labels[frame], 'where'),
      line(template.head + terms.join('') + template.tail, 'formula'),
      line('colours: ' + d.scales[frame][layerOf(run, n)], 'scale'));
  }

  function layerOf(run, n) {
    return Number(run.neurons[n].dataset.layer);
  }

  function describeSample(k, s) {
    const run = runs[k];
    const d = run.data;
    const frame = data.at[k][position()];
    const values = d.values[frame][s].split(' ');
    const list = document.createElement('div');
    list.className = 'values';
    d.names.forEach(function (name, i) {
      const cell = document.createElement('span');
      const label = document.createElement('b');
      label.textContent = name;
      cell.append(label, values[i]);
      list.appendChild(cell);
    });
    const command = d.command + ' ' + d.epochs[frame] + ' ' + d.args[s];
    info.replaceChildren(
      line(d.name + ', ' + d.labels[frame], 'where'),
      line(d.samples[s], 'sample'),
      list,
      line(d.hint, 'hint'),
      line(command, 'command'));
  }

  runs.forEach(function (run, k) {
    run.neurons.forEach(function (g, n) {
      g.addEventListener('mouseenter', function () { hovered = {run: k, neuron: n}; describeNeuron(k, n); });
      g.addEventListener('focus', function () { hovered = {run: k, neuron: n}; describeNeuron(k, n); });
      g.addEventListener('mouseleave', function () { hovered = null; if (picked) describeSample(picked.run, picked.sample); });
    });
    run.points.forEach(function (point, s) {
      point.addEventListener('click', function () {
        picked = {run: k, sample: s};
        hovered = null;
        runs.forEach(function (r) { r.points.forEach(function (p) { p.removeAttribute('data-picked'); }); });
        point.setAttribute('data-picked', '1');
        describeSample(k, s);
      });
    });
  });

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = '▶ play';
  }

  function play() {
    if (timer !== null) { stop(); return; }
    if (slider.value === slider.max) { slider.value = slider.min; show(); }
    playButton.textContent = '❚❚ pause';
    timer = setInterval(function () {
      if (slider.value === slider.max) { stop(); return; }
      slider.stepUp();
      show();
    }, Number(speed.value));
  }

  playButton.addEventListener('click', play);
  speed.addEventListener('change', function () { if (timer !== null) { stop(); play(); } });
  slider.addEventListener('input', function () { show(); });
  document.addEventListener('keydown', function (event) {
    if (event.target === slider || event.target.tagName === 'SELECT') return; // its own keys
    if (event.key === 'ArrowRight') { slider.stepUp(); show(); }
    else if (event.key === 'ArrowLeft') { slider.stepDown(); show(); }
    else if (event.key === 'Home') { slider.value = slider.min; show(); }
    else if (event.key === 'End') { slider.value = slider.max; show(); }
    else if (event.key === ' ') { play(); }
    else return;
    event.preventDefault();
  });

  window.watchPage = {show: show, runs: runs, data: data, slider: slider};
  show();
})();
