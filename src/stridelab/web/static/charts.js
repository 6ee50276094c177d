/* Draw every <figure class="chart" data-chart-url> with the vendored plotly.js (no CDN). */
"use strict";
(function () {
  const small = function () { return window.matchMedia("(max-width: 600px)").matches; };
  function fit(layout, width) {
    const l = Object.assign({}, layout);
    if (width && width < 720 && l.title && typeof l.title === "object") {
      l.title = Object.assign({}, l.title, { font: { size: width < 480 ? 11 : 13 } });
    }
    l.autosize = true;
    delete l.width;
    // the toolbar stands vertically at the right edge, so it never covers a (left-aligned) title
    l.modebar = Object.assign({}, l.modebar || {}, { orientation: "v" });
    if (l.title) {
      const t = typeof l.title === "object" ? l.title : { text: l.title };
      l.title = Object.assign({}, t, { x: 0.01, xanchor: "left" });
    }
    if (small()) {
      if (!l.height || l.height <= 500) l.height = Math.min(l.height || 380, 320);  // multi-panel charts keep theirs
      l.margin = { l: 45, r: 10, t: 40, b: 40 };
      l.font = Object.assign({}, l.font || {}, { size: 10 });
    }
    return l;
  }
  async function draw(fig) {
    const body = fig.querySelector(".chart-body");
    try {
      const spec = await window.stridelab.getJSON(fig.dataset.chartUrl);
      body.innerHTML = "";
      await Plotly.newPlot(body, spec.data || [], fit(spec.layout || {}, body.clientWidth), {
        displaylogo: false, responsive: true, displayModeBar: small() ? false : "hover",
        modeBarButtonsToRemove: ["lasso2d", "select2d", "toImage"],
      });
      fig.dataset.rendered = "1";
    } catch (err) {
      body.innerHTML = '<p class="muted loading">chart unavailable</p>';
      fig.dataset.rendered = "error";
      console.warn(err);
    }
  }
  document.addEventListener("DOMContentLoaded", async function () {
    const figs = Array.from(document.querySelectorAll("figure.chart[data-chart-url]"));
    const queue = figs.slice();
    const worker = async function () { while (queue.length) { await draw(queue.shift()); } };
    await Promise.all([worker(), worker(), worker()]);
    document.body.dataset.chartsDone = "1";
  });
})();
