/* mattwin dashboard: live progress (a small fetch loop, no reload) and the 3D structure viewer. */
"use strict";
window.mattwin = (function () {
  function fmtDuration(s) {
    if (s === null || s === undefined) return "–";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function fill(el, c) {
    const set = function (field, text) {
      el.querySelectorAll('[data-field="' + field + '"]').forEach(function (n) { n.textContent = text; });
    };
    set("status", c.status);
    el.querySelectorAll('[data-field="status"]').forEach(function (n) { n.className = "status " + c.status; });
    el.querySelectorAll('[data-field="progress"]').forEach(function (n) { n.value = c.progress; });
    set("done", c.n_done);
    set("jobs", c.n_jobs);
    set("n_candidates", c.n_candidates);
    set("n_failed", c.n_failed);
    set("n_screened", c.n_screened === null ? "–" : c.n_screened);
    set("n_stable", c.n_stable === null ? "–" : c.n_stable);
    set("wall_time", fmtDuration(c.wall_time_s));
  }
  function poll(el, every) {
    const url = el.getAttribute("data-live");
    const tick = function () {
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          if (Array.isArray(data)) {
            data.forEach(function (c) {
              const row = el.querySelector('tr[data-id="' + c.id + '"]');
              if (row) fill(row, c);
            });
          } else {
            fill(el, data);
            const note = document.getElementById("finished-note");
            if (data.status === "finished" && note && note.hidden) note.hidden = false;
          }
          el.setAttribute("data-updated", String(Date.now()));
        })
        .catch(function () {})
        .finally(function () { setTimeout(tick, every); });
    };
    setTimeout(tick, every);
  }
  function viewer(id, dataId) {
    const el = document.getElementById(id);
    const data = document.getElementById(dataId);
    if (!el || !data || typeof $3Dmol === "undefined") return;
    const v = $3Dmol.createViewer(el, { backgroundColor: "white", antialias: true });
    const format = el.getAttribute("data-format") || "cif";
    const opts = format === "cif" ? { doAssembly: true, normalizeAssembly: true, duplicateAssemblyAtoms: true } : {};
    const m = v.addModel(data.textContent, format, opts);
    v.setStyle({}, { sphere: { scale: 0.35, colorscheme: "Jmol" }, stick: { radius: 0.12, colorscheme: "Jmol" } });
    if (format === "cif") v.addUnitCell(m, { box: { color: "#555" } });
    v.zoomTo();
    v.render();
    el.setAttribute("data-rendered", "1");
    window.mattwinViewer = v;
  }
  document.querySelectorAll("[data-live]").forEach(function (el) { poll(el, 2000); });
  // plots drawn while the page was still being laid out take their final width once it is
  window.addEventListener("load", function () {
    if (typeof Plotly === "undefined") return;
    document.querySelectorAll(".js-plotly-plot").forEach(function (p) { Plotly.Plots.resize(p); });
  });
  return { viewer: viewer };
})();
