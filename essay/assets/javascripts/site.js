// Renders every figure on the page with the vendored Vega bundle, offline.
// Charts are elements carrying their Vega-Lite spec in data-spec (JSON in a
// <script> tag would be broken by Material's instant navigation). We render on
// Material's document$ (fires on first load and on every instant navigation) and
// again when the palette switches, so charts follow light and dark mode.
(function () {
  "use strict";

  function isDark() {
    return document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  function showError(el, err) {
    el.classList.add("sym-chart--failed");
    el.textContent = "This chart could not be drawn: " + (err && err.message ? err.message : err);
  }

  function renderChart(el) {
    var spec;
    try {
      spec = JSON.parse(el.getAttribute("data-spec"));
    } catch (err) {
      showError(el, err);
      return;
    }
    // Side-by-side panels do not fit a phone: stack them instead of shrinking them.
    if (spec.hconcat && el.clientWidth < 640) {
      spec.vconcat = spec.hconcat;
      delete spec.hconcat;
    }
    var dark = isDark();
    if (el._symView) {
      el._symView.finalize();
      el._symView = null;
    }
    var options = {
      renderer: "svg",
      // The editor and source links would leave the site; exports stay local.
      actions: { export: true, source: false, compiled: false, editor: false },
      config: { background: null },
    };
    if (dark) options.theme = "dark";
    window
      .vegaEmbed(el, spec, options)
      .then(function (result) {
        el._symView = result.view;
        el.setAttribute("data-rendered-scheme", dark ? "dark" : "light");
      })
      .catch(function (err) {
        showError(el, err);
      });
  }

  function renderAll() {
    if (typeof window.vegaEmbed !== "function") return;
    document.querySelectorAll(".sym-chart[data-spec]").forEach(renderChart);
  }

  function renderMath() {
    if (typeof window.renderMathInElement !== "function") return;
    document.querySelectorAll(".arithmatex").forEach(function (el) {
      window.renderMathInElement(el, {
        delimiters: [
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true },
        ],
        throwOnError: false,
      });
    });
  }

  // Hover previews of figure references: placed beside the link, inside the viewport.
  function placePreview(event) {
    var ref = event.target.closest && event.target.closest(".sym-ref");
    if (!ref) return;
    var preview = ref.querySelector(".sym-ref-preview");
    if (!preview) return;
    var link = ref.getBoundingClientRect();
    var width = Math.min(288, window.innerWidth - 16);
    preview.style.width = width + "px";
    preview.style.left = Math.max(8, Math.min(link.left, window.innerWidth - width - 8)) + "px";
    var below = link.bottom + 6;
    preview.style.top = (below + 240 < window.innerHeight ? below : Math.max(8, link.top - 246)) + "px";
  }
  document.addEventListener("mouseover", placePreview);
  document.addEventListener("focusin", placePreview);

  function onPage() {
    renderAll();
    renderMath();
  }

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(onPage);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onPage);
  } else {
    onPage();
  }

  new MutationObserver(function () {
    document.querySelectorAll(".sym-chart[data-spec]").forEach(function (el) {
      if (el.getAttribute("data-rendered-scheme") !== (isDark() ? "dark" : "light")) renderChart(el);
    });
  }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
})();
