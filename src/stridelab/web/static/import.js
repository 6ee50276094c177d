/* Drag-and-drop upload: one POST /api/import per file (the body is the file), progress bars, then the
   import job's progress until it is done. */
"use strict";
(function () {
  const drop = document.getElementById("drop");
  const input = document.getElementById("files");
  const list = document.getElementById("uploads");
  if (!drop || !input || !list) return;
  const maxBytes = parseInt(drop.dataset.maxBytes, 10) || 0;
  const okName = /\.(fit|gpx|tcx)(\.gz)?$|\.(zip|xml)$/i;
  const queue = [];
  let busy = false;

  function row(file) {
    const li = document.createElement("li");
    li.className = "upload";
    const name = document.createElement("b"); name.textContent = file.name;
    const status = document.createElement("span"); status.className = "status"; status.textContent = " waiting";
    const bar = document.createElement("progress"); bar.max = 100; bar.value = 0;
    li.append(name, status, bar);
    list.prepend(li);
    return { li: li, status: status, bar: bar };
  }
  function fail(ui, text) { ui.li.classList.add("failed"); ui.status.textContent = " " + text; ui.bar.value = 0; }

  function poll(ui, url) {
    window.stridelab.getJSON(url).then(function (job) {
      if (job.status === "done") {
        const r = job.result || {};
        ui.bar.value = 100; ui.li.classList.add("done");
        const skippedNa = r.not_activities || [];
        ui.status.textContent = " imported " + (r.imported || 0) + ", already present " + (r.skipped || 0) +
          (skippedNa.length ? ", skipped (not activities) " + skippedNa.length : "") +
          ", failed " + ((r.failed || []).length);
        function line(cls, text) {
          const p = document.createElement("div"); p.className = "small " + cls; p.textContent = text; ui.li.append(p);
        }
        (r.failed || []).forEach(function (f) { line("fail-line", f.path + ": " + f.error); });
        skippedNa.slice(0, 20).forEach(function (f) { line("not-activity", f.path + ": skipped: " + f.reason); });
        if (skippedNa.length > 20) line("not-activity", "… and " + (skippedNa.length - 20) + " more not activities");
        if (r.link_warning) line("link-warning", "warning: " + r.link_warning);
        if (r.imported) {
          const a = document.createElement("a"); a.href = "/runs"; a.textContent = "see the runs"; ui.status.append(" · ", a);
        }
        next();
      } else if (job.status === "failed") {
        fail(ui, "import failed: " + (job.error || "unknown error")); next();
      } else {
        ui.status.textContent = job.total ? " importing " + job.done + " / " + job.total : " " + job.status + "…";
        if (job.total) ui.bar.value = 50 + 50 * job.done / job.total;
        setTimeout(function () { poll(ui, url); }, 400);
      }
    }).catch(function (e) { fail(ui, String(e)); next(); });
  }

  function upload(item) {
    const file = item.file, ui = item.ui;
    if (!okName.test(file.name)) { fail(ui, "not a .fit, .gpx, .tcx (or .gz of one), .zip or Apple Health .xml file"); next(); return; }
    if (maxBytes && file.size > maxBytes) { fail(ui, "too large (limit " + Math.round(maxBytes / 1048576) + " MB)"); next(); return; }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/import?filename=" + encodeURIComponent(file.name));
    xhr.setRequestHeader("X-CSRF-Token", window.stridelab.csrf());
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { ui.bar.value = 50 * e.loaded / e.total; ui.status.textContent = " uploading " + Math.round(100 * e.loaded / e.total) + " %"; }
    };
    xhr.onload = function () {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 202) { ui.bar.value = 50; ui.status.textContent = " queued"; poll(ui, "/api/import/jobs/" + body.id); }
      else { fail(ui, body.detail || ("HTTP " + xhr.status)); next(); }
    };
    xhr.onerror = function () { fail(ui, "network error"); next(); };
    ui.status.textContent = " uploading";
    xhr.send(file);
  }
  function next() {
    busy = false;
    const item = queue.shift();
    if (item) { busy = true; upload(item); }
  }
  function add(files) {
    Array.from(files).forEach(function (f) { queue.push({ file: f, ui: row(f) }); });
    if (!busy) next();
  }
  ["dragenter", "dragover"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) { if (e.dataTransfer) add(e.dataTransfer.files); });
  input.addEventListener("change", function () { add(input.files); input.value = ""; });
})();
