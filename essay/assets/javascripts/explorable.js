// The explorable figure: the toy host of the steering section, run in the page.
//
// site.js draws every chart and then fires a "sym:chart" event with its Vega view and
// spec. A spec whose usermeta names an explorable gets controls here; each change
// recomputes the host's outputs in plain JavaScript and swaps the chart's data. The
// host is out = ReLU(W^T h + b), h = W x (rows of W are features), the same function as
// steered_change in figures_src/steering_explorable.py; tests/test_browser.py checks
// that window.symToyHost.steeredChange matches PyTorch to 1e-5.
(function () {
  "use strict";

  // Mean change of every output over the inputs when dose * d is added to h.
  function steeredChange(host, inputs, d, dose) {
    var W = host.W, b = host.b;
    var nF = W.length, nH = W[0].length;
    var change = new Array(nF).fill(0);
    inputs.forEach(function (x) {
      var h = new Array(nH).fill(0);
      for (var f = 0; f < nF; f++) {
        if (x[f] === 0) continue;
        for (var j = 0; j < nH; j++) h[j] += x[f] * W[f][j];
      }
      for (var g = 0; g < nF; g++) {
        var clean = b[g], steered = b[g];
        for (var k = 0; k < nH; k++) {
          clean += W[g][k] * h[k];
          steered += W[g][k] * (h[k] + dose * d[k]);
        }
        change[g] += Math.max(steered, 0) - Math.max(clean, 0);
      }
    });
    return change.map(function (c) { return c / inputs.length; });
  }

  window.symToyHost = { steeredChange: steeredChange };

  // A labelled control; `value`, when given, shows the control's value beside it.
  function control(labelText, input, value) {
    var label = document.createElement("label");
    label.className = "sym-explorable-control";
    var span = document.createElement("span");
    span.textContent = labelText;
    label.appendChild(span);
    var row = document.createElement("span");
    row.className = "sym-explorable-row";
    row.appendChild(input);
    if (value) row.appendChild(value);
    label.appendChild(row);
    return label;
  }

  function wire(chartEl, view, meta) {
    var box = chartEl.parentNode.querySelector(".sym-explorable-controls");
    if (!box) {
      box = document.createElement("div");
      box.className = "sym-explorable-controls";
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", "Steer the host");
      chartEl.parentNode.insertBefore(box, chartEl);
      var state = { kind: meta.shown.kind, target: meta.shown.target, dose: meta.shown.dose };
      var kind = document.createElement("select");
      meta.kinds.forEach(function (k) {
        var option = document.createElement("option");
        option.value = k;
        option.textContent = k;
        kind.appendChild(option);
      });
      kind.value = state.kind;
      var target = document.createElement("input");
      target.type = "range";
      target.min = 0;
      target.max = meta.host.b.length - 1;
      target.step = 1;
      target.value = state.target;
      var dose = document.createElement("input");
      dose.type = "range";
      dose.min = 0;
      dose.max = 3;
      dose.step = 0.05;
      dose.value = state.dose;
      var readout = document.createElement("output");
      readout.className = "sym-explorable-readout";
      readout.setAttribute("aria-live", "polite");
      box.appendChild(control("Direction", kind));
      var doseValue = document.createElement("output");
      doseValue.className = "sym-explorable-value";
      doseValue.textContent = Number(state.dose).toFixed(2);
      dose.addEventListener("input", function () { doseValue.textContent = Number(dose.value).toFixed(2); });
      var targetValue = document.createElement("output");
      targetValue.className = "sym-explorable-value";
      targetValue.textContent = String(state.target);
      target.addEventListener("input", function () { targetValue.textContent = target.value; });
      box.appendChild(control("Target feature", target, targetValue));
      box.appendChild(control("Dose", dose, doseValue));
      box.appendChild(readout);
      box._state = state;
      box._inputs = { kind: kind, target: target, dose: dose, readout: readout };
      [kind, target, dose].forEach(function (el) {
        el.addEventListener("input", function () {
          state.kind = kind.value;
          state.target = parseInt(target.value, 10);
          state.dose = parseFloat(dose.value);
          update(box);
        });
      });
    }
    box._view = view;
    box._meta = meta;
    update(box);
  }

  function update(box) {
    var s = box._state, meta = box._meta, view = box._view;
    var d = meta.directions[s.kind][s.target];
    var change = steeredChange(meta.host, meta.inputs, d, s.dose);
    var rows = change.map(function (c, f) {
      return { feature: f, change: c, role: f === s.target ? "target" : "other" };
    });
    var others = change.reduce(function (sum, c, f) { return f === s.target ? sum : sum + Math.abs(c); }, 0);
    box._inputs.readout.textContent =
      "target feature " + s.target + ": " + change[s.target].toFixed(3) +
      "; mean |change| of the others: " + (others / (change.length - 1)).toFixed(4);
    view.data("outputs", rows).run();
  }

  document.addEventListener("sym:chart", function (event) {
    var spec = event.detail && event.detail.spec;
    var meta = spec && spec.usermeta;
    if (meta && meta.explorable === "toy_steering") wire(event.target, event.detail.view, meta);
  });
})();
