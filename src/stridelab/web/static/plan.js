/* Today's session on a phone: sets checklist, per-side hold timers, rep counters, then the log form.
   Progress survives a reload (localStorage, per day). */
"use strict";
(function () {
  const today = document.getElementById("today");
  const form = document.getElementById("log-form");
  const items = today ? Array.from(today.querySelectorAll("li.item")) : [];
  const key = today ? "stridelab-today-" + today.dataset.date : null;
  let saved = {};
  try { saved = key ? JSON.parse(localStorage.getItem(key) || "{}") : {}; } catch (e) { saved = {}; }
  const itemKey = function (li, i) { return i + ":" + li.dataset.exercise + ":" + li.dataset.side; };

  function beep() {
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const osc = ctx.createOscillator();
      osc.frequency.value = 880; osc.connect(ctx.destination); osc.start(); osc.stop(ctx.currentTime + 0.25);
    } catch (e) { /* no audio: fine */ }
    if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
  }
  function save() {
    if (!key) return;
    const state = {};
    items.forEach(function (li, i) {
      state[itemKey(li, i)] = {
        sets: Array.from(li.querySelectorAll(".set-done")).map(function (c) { return c.checked; }),
        count: parseInt((li.querySelector(".count") || {}).textContent || "0", 10) || 0,
        pain: (li.querySelector(".item-pain") || {}).value || "",
      };
    });
    try { localStorage.setItem(key, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function refresh(li) {
    const boxes = Array.from(li.querySelectorAll(".set-done"));
    li.classList.toggle("complete", boxes.length > 0 && boxes.every(function (c) { return c.checked; }));
  }
  function checkNextSet(li) {
    const next = Array.from(li.querySelectorAll(".set-done")).find(function (c) { return !c.checked; });
    if (next) next.checked = true;
    refresh(li);
  }

  items.forEach(function (li, i) {
    const st = saved[itemKey(li, i)];
    if (st) {
      li.querySelectorAll(".set-done").forEach(function (c, n) { c.checked = !!(st.sets || [])[n]; });
      const out = li.querySelector(".count"); if (out) out.textContent = String(st.count || 0);
      const pain = li.querySelector(".item-pain"); if (pain) pain.value = st.pain || "";
    }
    refresh(li);
    li.querySelectorAll(".set-done").forEach(function (c) { c.addEventListener("change", function () { refresh(li); save(); }); });
    const pain = li.querySelector(".item-pain"); if (pain) pain.addEventListener("change", save);

    const timer = li.querySelector("button.timer");
    if (timer) {
      const total = parseInt(timer.dataset.seconds, 10) || 0;
      const label = timer.textContent;
      let handle = null, left = total;
      const stop = function () { clearInterval(handle); handle = null; timer.classList.remove("running"); };
      timer.addEventListener("click", function () {
        if (handle) { stop(); timer.textContent = label; left = total; return; }
        left = total; timer.classList.remove("finished"); timer.classList.add("running");
        timer.textContent = "■ " + left + " s";
        handle = setInterval(function () {
          left -= 1;
          if (left <= 0) {
            stop(); timer.classList.add("finished"); timer.textContent = "✓ done — " + label.replace("▶ ", "▶ again ");
            beep(); checkNextSet(li); save();
          } else { timer.textContent = "■ " + left + " s"; }
        }, 1000);
      });
    }
    const out = li.querySelector(".count");
    if (out) {
      const target = parseInt(li.dataset.amount, 10) || 0;
      li.querySelector(".inc").addEventListener("click", function () {
        let n = (parseInt(out.textContent, 10) || 0) + 1;
        if (target && n >= target) { checkNextSet(li); beep(); n = 0; }
        out.textContent = String(n); save();
      });
      li.querySelector(".dec").addEventListener("click", function () {
        out.textContent = String(Math.max(0, (parseInt(out.textContent, 10) || 0) - 1)); save();
      });
    }
  });

  if (form) {
    form.addEventListener("submit", function () {
      const merged = {};
      items.forEach(function (li) {
        const sets = li.querySelectorAll(".set-done:checked").length;
        const amount = parseFloat(li.dataset.amount) || 0;
        const kind = li.dataset.kind;
        const extra = parseInt((li.querySelector(".count") || {}).textContent || "0", 10) || 0;
        const painText = (li.querySelector(".item-pain") || {}).value || "";
        if (!sets && !extra && painText === "") return;
        const k = li.dataset.exercise + ":" + li.dataset.side;
        const e = merged[k] || { exercise_id: li.dataset.exercise, side: li.dataset.side, reps: null, seconds: null, pain: null };
        if (kind === "reps") e.reps = (e.reps || 0) + Math.round(sets * amount + extra);
        else if (kind === "hold" || kind === "duration") e.seconds = (e.seconds || 0) + sets * amount;
        if (painText !== "") e.pain = Math.max(e.pain || 0, parseFloat(painText));
        merged[k] = e;
      });
      form.querySelector('input[name="exercises_json"]').value = JSON.stringify(Object.values(merged));
      form.querySelectorAll('input[type="range"]').forEach(function (r) { if (!r.dataset.touched) r.disabled = true; });
    });
  }
})();
