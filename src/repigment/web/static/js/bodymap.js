/* Body map: paint depigmentation levels on a grid of cells, preview F-VASI, T-VASI, F-BSA, T-BSA.
 *
 * Each chart area's hand units = (cells painted / cells of the area) x its Lund-Browder weight for the
 * patient's age (weights served by the page from repigment.body.chart_weights). This is the same formula
 * the server applies to the submitted drawing before scoring it with repigment.scoring.score_assessment;
 * the browser tests check that the two agree.
 */
"use strict";
(function () {
  var root = document.querySelector("[data-bodymap]");
  if (!root) return;
  var cfg = JSON.parse(document.getElementById("bodymap-config").textContent);
  var LADDER = [0, 10, 25, 50, 75, 90, 100];
  var COLORS = [null, "#fde0c5", "#fcc08f", "#f99c58", "#e8702a", "#c04f15", "#7f2704"];
  var areas = cfg.areas;
  var nA = areas.length;
  var weight = new Float64Array(nA);
  var cellsOf = new Int32Array(nA);
  var inFace = new Uint8Array(nA);
  var inTotal = new Uint8Array(nA);
  var areaIndex = {};
  var faceRegions = { face: 1 };
  if (cfg.variant.face_includes_eyelids) faceRegions.eyelids = 1;
  var headRegions = { face: 1, eyelids: 1, head_neck: 1 };
  var withHead = cfg.variant.t_vasi_includes_head_neck !== false;
  areas.forEach(function (a, i) {
    weight[i] = a.weight;
    cellsOf[i] = a.cells;
    inFace[i] = faceRegions[a.region] ? 1 : 0;
    inTotal[i] = withHead || !headRegions[a.region] ? 1 : 0;
    areaIndex[a.name] = i;
  });
  function applyVariant(v) {
    var face = { face: 1 };
    if (v.face_includes_eyelids) face.eyelids = 1;
    var head = v.t_vasi_includes_head_neck !== false;
    areas.forEach(function (a, i) {
      inFace[i] = face[a.region] ? 1 : 0;
      inTotal[i] = head || !headRegions[a.region] ? 1 : 0;
    });
  }
  document.querySelectorAll("input[data-variant]").forEach(function (box) {
    box.addEventListener("change", function () {
      var v = {};
      document.querySelectorAll("input[data-variant]").forEach(function (b) { v[b.getAttribute("data-variant")] = b.checked; });
      applyVariant(v);
      showTotals();
    });
  });
  var counts = new Int32Array(nA * 7);
  var levelIndex = {};
  LADDER.forEach(function (v, i) { levelIndex[v] = i; });

  function unrle(data, n, Typed) {
    var out = new Typed(n), k = 0;
    for (var i = 0; i < data.length; i += 2) {
      out.fill(data[i], k, k + data[i + 1]);
      k += data[i + 1];
    }
    return out;
  }

  var views = {};
  Object.keys(cfg.views).forEach(function (name) {
    var v = cfg.views[name];
    var el = root.querySelector('.bm-view[data-view="' + name + '"]');
    var canvas = el.querySelector("canvas");
    views[name] = {
      name: name, el: el, cols: v.cols, rows: v.rows,
      grid: unrle(v.grid, v.cols * v.rows, Int16Array),
      level: new Uint8Array(v.cols * v.rows),
      canvas: canvas, ctx: canvas.getContext("2d")
    };
  });

  function setCell(view, k, li) {
    var old = view.level[k];
    if (old === li) return;
    var a = view.grid[k];
    if (a < 0) return;
    counts[a * 7 + old]--;
    counts[a * 7 + li]++;
    view.level[k] = li;
    var x = k % view.cols, y = (k - x) / view.cols;
    if (li === 0) view.ctx.clearRect(x, y, 1, 1);
    else { view.ctx.fillStyle = COLORS[li]; view.ctx.fillRect(x, y, 1, 1); }
  }

  function resetCounts() {
    counts.fill(0);
    Object.keys(views).forEach(function (name) {
      var v = views[name];
      for (var k = 0; k < v.grid.length; k++) if (v.grid[k] >= 0) counts[v.grid[k] * 7 + v.level[k]]++;
    });
  }

  /* The preview: the same sums as repigment.scoring.score_patches over the drawing's patches. */
  function totals() {
    var fV = 0, tV = 0, fB = 0, tB = 0;
    for (var a = 0; a < nA; a++) {
      for (var li = 1; li < 7; li++) {
        var c = counts[a * 7 + li];
        if (!c) continue;
        var hu = c / cellsOf[a] * weight[a];
        var vasi = hu * LADDER[li] / 100;
        if (inFace[a]) { fV += vasi; fB += hu; }
        if (inTotal[a]) { tV += vasi; tB += hu; }
      }
    }
    return { f_vasi: fV, t_vasi: tV, f_bsa_percent: fB, t_bsa_percent: tB };
  }

  /* Rounded for display, ties away from zero, as repigment.web.i18n.round_half_up does on the exact value. */
  var fmt = new Intl.NumberFormat(cfg.locale || "en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  function display(x) { return fmt.format(Math.round(x * 100 + 1e-9) / 100); }

  var totalEls = {};
  root.querySelectorAll("[data-total]").forEach(function (el) { totalEls[el.getAttribute("data-total")] = el; });
  var last = {};
  function showTotals() {
    var t = totals();
    Object.keys(totalEls).forEach(function (key) {
      var s = display(t[key]);
      if (last[key] !== s) { totalEls[key].textContent = s; last[key] = s; }
    });
    return t;
  }

  function patches() {
    var out = [];
    for (var a = 0; a < nA; a++) {
      for (var li = 6; li > 0; li--) {
        var c = counts[a * 7 + li];
        if (c) out.push({ area: areas[a].name, region: areas[a].region, cells: c,
          hand_units: c / cellsOf[a] * weight[a], depigmentation_percent: LADDER[li] });
      }
    }
    return out;
  }

  function rle(levels) {
    var out = [];
    for (var k = 0; k < levels.length; k++) {
      var v = LADDER[levels[k]];
      if (out.length && out[out.length - 2] === v) out[out.length - 1]++;
      else out.push(v, 1);
    }
    return out;
  }
  function drawing() {
    var d = {};
    Object.keys(views).forEach(function (name) { d[name] = rle(views[name].level); });
    return d;
  }
  function load(d) {
    Object.keys(views).forEach(function (name) {
      var v = views[name];
      v.level.fill(0);
      if (d && d[name]) {
        var lv = unrle(d[name], v.cols * v.rows, Int16Array);
        for (var k = 0; k < lv.length; k++) if (v.grid[k] >= 0) v.level[k] = levelIndex[lv[k]] || 0;
      }
      redraw(v);
    });
    resetCounts();
    drawHeadThumbnail();
    showTotals();
  }
  function redraw(v) {
    v.ctx.clearRect(0, 0, v.cols, v.rows);
    for (var k = 0; k < v.level.length; k++) {
      var li = v.level[k];
      if (li) { v.ctx.fillStyle = COLORS[li]; v.ctx.fillRect(k % v.cols, Math.floor(k / v.cols), 1, 1); }
    }
  }

  /* The front view's head shows a small copy of the face view. */
  var HEAD_IN_FRONT = [39, 2, 23, 28];   /* cells: x, y, w, h */
  var HEAD_IN_FACE = [8, 7, 84, 106];
  function drawHeadThumbnail() {
    var f = views.front, z = views.face;
    if (!f || !z) return;
    f.ctx.clearRect(HEAD_IN_FRONT[0], HEAD_IN_FRONT[1], HEAD_IN_FRONT[2], HEAD_IN_FRONT[3]);
    f.ctx.drawImage(z.canvas, HEAD_IN_FACE[0], HEAD_IN_FACE[1], HEAD_IN_FACE[2], HEAD_IN_FACE[3],
      HEAD_IN_FRONT[0], HEAD_IN_FRONT[1], HEAD_IN_FRONT[2], HEAD_IN_FRONT[3]);
    for (var k = 0; k < f.level.length; k++) {   /* keep painted body cells that the copy overlapped */
      var x = k % f.cols, y = (k - x) / f.cols;
      if (f.level[k] && x >= HEAD_IN_FRONT[0] && x < HEAD_IN_FRONT[0] + HEAD_IN_FRONT[2] &&
          y >= HEAD_IN_FRONT[1] && y < HEAD_IN_FRONT[1] + HEAD_IN_FRONT[3]) {
        f.ctx.fillStyle = COLORS[f.level[k]]; f.ctx.fillRect(x, y, 1, 1);
      }
    }
  }

  /* ---- tools ---- */
  function tool() {
    var r = root.querySelector('input[name="bm-tool"]:checked');
    return r ? levelIndex[+r.value] : 6;
  }
  var sizeSel = document.getElementById("bm-size");
  function radius() { return +(sizeSel ? sizeSel.value : 4); }

  function dab(v, cx, cy, r, li) {
    var r2 = r * r;
    var y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(v.rows - 1, Math.ceil(cy + r));
    var x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(v.cols - 1, Math.ceil(cx + r));
    for (var y = y0; y <= y1; y++) {
      var dy = y + 0.5 - cy;
      for (var x = x0; x <= x1; x++) {
        var dx = x + 0.5 - cx;
        if (dx * dx + dy * dy <= r2) setCell(v, y * v.cols + x, li);
      }
    }
  }
  function segment(v, x0, y0, x1, y1, r, li) {
    var dist = Math.hypot(x1 - x0, y1 - y0);
    var steps = Math.max(1, Math.ceil(dist / Math.max(0.5, r / 2)));
    for (var i = 1; i <= steps; i++) dab(v, x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps, r, li);
  }

  /* Time from each stroke event to the updated totals, read by the benchmark (performance.now()). */
  var perf = [];
  function stroke(v, x, y, from) {
    var t0 = performance.now();
    var li = tool(), r = radius();
    if (from) segment(v, from[0], from[1], x, y, r, li); else dab(v, x, y, r, li);
    showTotals();
    var t1 = performance.now();
    if (perf.length < 100000) perf.push(t1 - t0);
  }

  function cellAt(v, ev) {
    var rect = v.canvas.getBoundingClientRect();
    return [(ev.clientX - rect.left) / rect.width * v.cols, (ev.clientY - rect.top) / rect.height * v.rows];
  }

  var readonly = !!cfg.readonly;
  Object.keys(views).forEach(function (name) {
    var v = views[name], lastPt = null, down = false;
    if (readonly) {
      v.el.addEventListener("click", function (ev) {
        if (ev.target.getAttribute && ev.target.getAttribute("data-zoom")) show("face");
      });
      return;
    }
    v.el.addEventListener("pointerdown", function (ev) {
      if (ev.target.getAttribute && ev.target.getAttribute("data-zoom")) { show("face"); return; }
      if (ev.button !== 0) return;
      ev.preventDefault();
      down = true;
      try { v.el.setPointerCapture(ev.pointerId); } catch (e) { /* synthetic pointers */ }
      lastPt = cellAt(v, ev);
      stroke(v, lastPt[0], lastPt[1], null);
    });
    v.el.addEventListener("pointermove", function (ev) {
      if (!down) return;
      var p = cellAt(v, ev);
      stroke(v, p[0], p[1], lastPt);
      lastPt = p;
    });
    function end() { if (down) { down = false; lastPt = null; changed(); } }
    v.el.addEventListener("pointerup", end);
    v.el.addEventListener("pointercancel", end);
    v.el.addEventListener("lostpointercapture", end);
  });

  /* ---- keyboard: fill or clear an area, or a share of it ---- */
  function fillArea(name, share, li) {
    var a = areaIndex[name];
    var want = Math.round(cellsOf[a] * share);
    var v = views[areas[a].view];
    if (!v) return;
    for (var k = 0; k < v.grid.length; k++) {
      if (v.grid[k] !== a) continue;
      setCell(v, k, want > 0 ? li : 0);
      if (want > 0) want--;
    }
    drawHeadThumbnail();
    showTotals();
    changed();
    announce(name);
  }
  function areaShare(name) {
    var a = areaIndex[name], c = 0;
    for (var li = 1; li < 7; li++) c += counts[a * 7 + li];
    return c / cellsOf[a];
  }
  var msgs = cfg.messages || {};
  var pct = new Intl.NumberFormat(cfg.locale || "en", { maximumFractionDigits: 0 });
  function areaState(name) {
    return (msgs.painted || "%(percent)s % painted").replace("%(percent)s", pct.format(areaShare(name) * 100));
  }
  function announce(name) {
    var label = (cfg.labels || {})[name] || name;
    var text = label + ": " + areaState(name);
    var live = document.getElementById("bm-announce");
    if (live) live.textContent = text;
    var st = document.getElementById("bm-kb-state");
    var sel = document.getElementById("bm-kb-area");
    if (st && sel && sel.value === name) st.textContent = text;
    root.querySelectorAll('[data-area="' + name + '"]').forEach(function (p) {
      p.setAttribute("aria-label", text);
    });
  }
  root.querySelectorAll("[data-area]").forEach(function (p) {
    p.addEventListener("keydown", function (ev) {
      if (readonly) return;
      var name = p.getAttribute("data-area");
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); fillArea(name, 1, tool()); }
      else if (ev.key === "Delete" || ev.key === "Backspace") { ev.preventDefault(); fillArea(name, 0, 0); }
    });
  });
  root.querySelectorAll("[data-zoom]").forEach(function (p) {
    p.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); show("face"); }
    });
  });
  var kbApply = document.getElementById("bm-kb-apply");
  if (kbApply) kbApply.addEventListener("click", function () {
    var name = document.getElementById("bm-kb-area").value;
    var share = Math.min(100, Math.max(0, +document.getElementById("bm-kb-percent").value || 0)) / 100;
    fillArea(name, share, levelIndex[+document.getElementById("bm-kb-level").value]);
  });
  var kbArea = document.getElementById("bm-kb-area");
  if (kbArea) kbArea.addEventListener("change", function () { announce(kbArea.value); });

  /* ---- views ---- */
  function show(name) {
    Object.keys(views).forEach(function (n) { views[n].el.hidden = n !== name; });
    root.querySelectorAll("[data-show-view]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-show-view") === name ? "true" : "false");
    });
    if (name === "front") drawHeadThumbnail();
  }
  root.querySelectorAll("[data-show-view]").forEach(function (b) {
    b.addEventListener("click", function () { show(b.getAttribute("data-show-view")); });
  });
  var clearBtn = document.getElementById("bm-clear");
  if (clearBtn) clearBtn.addEventListener("click", function () { load(null); changed(); });

  /* ---- the form that saves the drawing ---- */
  var input = document.querySelector("[data-bodymap-drawing]");
  function changed() { if (input) input.value = JSON.stringify(drawing()); }

  load(cfg.drawing || null);
  changed();
  areas.forEach(function (a) {
    if (areaShare(a.name) > 0) {
      var text = ((cfg.labels || {})[a.name] || a.name) + ": " + areaState(a.name);
      root.querySelectorAll('[data-area="' + a.name + '"]').forEach(function (p) { p.setAttribute("aria-label", text); });
    }
  });

  window.repigmentBodymap = {
    totals: totals, patches: patches, drawing: drawing, load: load, perf: perf,
    show: show, display: display,
    fill: function (name, share, percent) { fillArea(name, share, levelIndex[percent] || 0); }
  };
})();
