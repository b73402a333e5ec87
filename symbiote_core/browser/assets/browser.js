// The feature browser's viewer: a sortable, filterable index and one latent's page,
// loaded on demand from latents/NNNN.js. Strings from the model are set as text only.
(function () {
  "use strict";
  const rows = JSON.parse(document.getElementById("rows").textContent);
  const body = document.querySelector("#latents tbody");
  const detail = document.getElementById("detail");
  const filter = document.getElementById("filter");
  const shown = document.getElementById("shown");
  let sortKey = "i";
  let descending = false;

  function cell(tr, text) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    tr.appendChild(td);
  }

  function fmt(x, digits) {
    return x === null || x === undefined ? null : Number(x).toFixed(digits);
  }

  function draw() {
    const needle = filter.value.trim().toLowerCase();
    const picked = rows.filter((r) => !needle || (r.label || "").toLowerCase().includes(needle));
    picked.sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      if (x === y) return a.i - b.i;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * (descending ? -1 : 1);
    });
    body.replaceChildren();
    for (const r of picked) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      const a = document.createElement("a");
      a.href = "#latent-" + r.i;
      a.textContent = "#" + r.i;
      th.appendChild(a);
      tr.appendChild(th);
      cell(tr, fmt(r.density, 4));
      cell(tr, fmt(r.max, 3));
      cell(tr, r.label);
      cell(tr, fmt(r.f1, 3));
      cell(tr, fmt(r.kl, 4));
      body.appendChild(tr);
    }
    shown.textContent = String(picked.length);
  }

  for (const button of document.querySelectorAll("thead button")) {
    button.addEventListener("click", () => {
      const key = button.dataset.key;
      descending = key === sortKey ? !descending : key !== "i" && key !== "label";
      sortKey = key;
      for (const b of document.querySelectorAll("thead button")) {
        b.closest("th").setAttribute("aria-sort", b === button ? (descending ? "descending" : "ascending") : "none");
      }
      draw();
    });
  }
  filter.addEventListener("input", draw);

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function render(index, data) {
    detail.replaceChildren();
    detail.appendChild(el("h2", "Latent #" + index));
    const facts = el("dl");
    const add = (k, v) => { facts.appendChild(el("dt", k)); facts.appendChild(el("dd", v)); };
    add("activation density", Number(data.density).toFixed(4));
    add("max activation", Number(data.max).toFixed(3));
    add("mean when active", Number(data.mean_active).toFixed(3));
    if (data.match) {
      add("best label", data.match.label + " (F1 " + data.match.f1.toFixed(3) + ", precision " +
        data.match.precision.toFixed(3) + ", recall " + data.match.recall.toFixed(3) + ")");
    }
    for (const [k, v] of Object.entries(data.notes || {})) add(k, String(v));
    if (data.effect) {
      add("steering (scale " + data.effect.scale + ")", "KL " + Number(data.effect.kl).toFixed(4));
      const list = (pairs) => pairs.map(([t, d]) => JSON.stringify(t) + " " + (d > 0 ? "+" : "") + d.toFixed(2)).join(", ");
      add("promotes", list(data.effect.promoted));
      add("suppresses", list(data.effect.suppressed));
    }
    detail.appendChild(facts);
    detail.appendChild(el("h3", "Strongest activations"));
    const list = el("ol", undefined, "examples");
    const top = Math.max(...data.examples.flatMap((e) => e.acts), 1e-9);
    for (const ex of data.examples) {
      const li = el("li");
      const line = el("code", undefined, "context");
      ex.tokens.forEach((tok, k) => {
        const span = el("span", tok, k === ex.focus ? "tok focus" : "tok");
        const a = Math.max(0, ex.acts[k]) / top;
        span.style.setProperty("--a", a.toFixed(3));
        span.title = "activation " + ex.acts[k].toFixed(3);
        line.appendChild(span);
      });
      li.appendChild(line);
      li.appendChild(el("span", " context " + ex.context + ", position " + ex.position, "where"));
      list.appendChild(li);
    }
    if (!data.examples.length) detail.appendChild(el("p", "This latent never fires on these inputs."));
    detail.appendChild(list);
    detail.hidden = false;
    detail.focus();
  }

  const pending = {};
  window.SymbioteBrowser = {
    receive(index, data) {
      const done = pending[index];
      delete pending[index];
      if (done) done(data);
    },
  };

  function open() {
    const m = /^#latent-(\d+)$/.exec(location.hash);
    if (!m) { detail.hidden = true; return; }
    const index = Number(m[1]);
    pending[index] = (data) => render(index, data);
    const script = document.createElement("script");
    script.src = "latents/" + String(index).padStart(4, "0") + ".js";
    script.onerror = () => { detail.replaceChildren(el("p", "No latent #" + index + ".")); detail.hidden = false; };
    document.body.appendChild(script);
  }

  detail.tabIndex = -1;
  window.addEventListener("hashchange", open);
  draw();
  open();
})();
