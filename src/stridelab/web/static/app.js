/* stridelab dashboard: shared helpers (no inline scripts: the CSP forbids them). */
"use strict";
window.stridelab = (function () {
  function csrf() {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }
  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!r.ok) throw new Error(url + ": HTTP " + r.status);
    return r.json();
  }
  function bindRanges(root) {
    (root || document).querySelectorAll('input[type="range"][data-out]').forEach(function (input) {
      const out = document.getElementById(input.dataset.out);
      if (!out) return;
      const show = function () { out.textContent = input.dataset.touched ? input.value : "–"; };
      input.addEventListener("input", function () { input.dataset.touched = "1"; show(); });
      show();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { bindRanges(document); });
  return { csrf: csrf, getJSON: getJSON };
})();
