#include "cli/attention_page.h"

#include "attn/draw/colormap.h"

namespace attn {

namespace {

// JSON inside <script>: "</" would end the element early, so it is written "<\/" (the same string
// to a JSON reader).
std::string script_safe(std::string json) {
  for (size_t at = 0; (at = json.find("</", at)) != std::string::npos; at += 3) json.replace(at, 2, "<\\/");
  return json;
}

const char* kStyle = R"CSS(
body { font: 14px/1.45 "DejaVu Sans", system-ui, sans-serif; color: #222; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 6px; border-top: 1px solid #ddd; padding-top: 14px; }
.meta, .hint { color: #666; font-size: 13px; }
.prediction b { font-size: 15px; }
.controls { margin: 10px 0; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
.controls label { font-size: 13px; color: #444; }
.controls select { font: inherit; padding: 2px 4px; }
.figure { display: flex; gap: 18px; align-items: flex-start; }
canvas.map { border: 1px solid #ccc; image-rendering: pixelated; }
.legend { font-size: 12px; color: #444; }
.legend .bar { width: 14px; height: 200px; border: 1px solid #ccc; }
.legend .ticks { display: flex; flex-direction: column; justify-content: space-between; height: 200px; margin-left: 4px; }
.legend .scale { display: flex; }
.tip { font: 13px/1.4 "DejaVu Sans Mono", monospace; min-height: 1.4em; margin: 6px 0; color: #333; }
.strip { line-height: 2.1; margin: 2px 0; }
h3 { font-size: 14px; margin: 14px 0 4px; font-weight: 600; }
.strip-row { display: flex; gap: 10px; align-items: baseline; }
.strip-label { flex: 0 0 56px; color: #666; font-size: 12px; text-align: right; }
.strip span { padding: 2px 3px; margin: 0 1px; border-radius: 3px; }
.query-token { cursor: default; border-bottom: 1px dotted #999; }
.query-token.on { outline: 2px solid #333; }
)CSS";

const char* kScript = R"JS(
(function () {
  "use strict";
  var doc = JSON.parse(document.getElementById("attn-data").textContent);
  // viridis (attn/draw/colormap.h, the pictures' table): 0 dark purple .. 1 yellow; fixed to [0, 1].
  var V = @VIRIDIS@;
  function colour(w) {
    w = Math.max(0, Math.min(1, w));
    var x = w * (V.length - 1), i = Math.min(Math.floor(x), V.length - 2), f = x - i;
    return "rgb(" + V[i].map(function (a, j) { return Math.round(a + (V[i + 1][j] - a) * f); }).join(",") + ")";
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }
  function matrix(map, head) {  // one head's (Tq, Tk) weights, or their mean over heads
    if (head !== "mean") return map.weights[+head];
    var H = map.weights.length;
    return map.weights[0].map(function (row, q) {
      return row.map(function (_, k) {
        var s = 0;
        for (var h = 0; h < H; ++h) s += map.weights[h][q][k];
        return s / H;
      });
    });
  }
  function draw(canvas, tip, map, head) {
    var M = matrix(map, head), Tq = M.length, Tk = M[0].length;
    var cell = Math.max(3, Math.min(36, Math.floor(640 / Math.max(Tq, Tk))));
    var every = Math.ceil(12 / cell);  // thin the labels where cells are narrower than a line
    var left = 110, top = 90;
    canvas.width = left + Tk * cell + 8;
    canvas.height = top + Tq * cell + 8;
    var g = canvas.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, canvas.width, canvas.height);
    for (var q = 0; q < Tq; ++q)
      for (var k = 0; k < Tk; ++k) {
        g.fillStyle = colour(M[q][k]);
        g.fillRect(left + k * cell, top + q * cell, cell, cell);
      }
    g.fillStyle = "#222";
    g.font = "11px 'DejaVu Sans', sans-serif";
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (q = 0; q < Tq; q += every) g.fillText(clip(map.queries[q], 16), left - 4, top + q * cell + cell / 2);
    g.textAlign = "left";
    for (k = 0; k < Tk; k += every) {
      g.save();
      g.translate(left + k * cell + cell / 2, top - 4);
      g.rotate(-Math.PI / 3);
      g.fillText(clip(map.keys[k], 14), 0, 0);
      g.restore();
    }
    canvas.onmousemove = function (e) {
      var r = canvas.getBoundingClientRect();
      var x = (e.clientX - r.left) * canvas.width / r.width, y = (e.clientY - r.top) * canvas.height / r.height;
      var kk = Math.floor((x - left) / cell), qq = Math.floor((y - top) / cell);
      tip.textContent = kk >= 0 && kk < Tk && qq >= 0 && qq < Tq
          ? "query " + qq + " \u00ab" + map.queries[qq] + "\u00bb \u2192 key " + kk + " \u00ab" + map.keys[kk] + "\u00bb: " + M[qq][kk].toFixed(4)
          : "";
    };
    canvas.dataset.map = map.name;
    canvas.dataset.head = head;
  }
  function strip(map, head) {  // a single query (the pooling's): its weights over the set as shaded tokens
    var row = matrix(map, head)[0], div = el("div", "strip");
    map.keys.forEach(function (t, k) {
      var s = el("span", "", t);
      s.style.background = colour(row[k]);
      s.style.color = row[k] > 0.55 ? "#111" : "#fff";
      s.title = t + ": " + row[k].toFixed(4);
      div.appendChild(s);
    });
    return div;
  }
  // bertviz's head view: a query token under the pointer shades the keys by its weights.
  function tokenView(map, head) {
    var M = matrix(map, head), box = el("div", "token-view"), qrow = el("div", "strip"), krow = el("div", "strip");
    var keys = map.keys.map(function (t) { var s = el("span", "", t); krow.appendChild(s); return s; });
    function shade(q) {
      keys.forEach(function (s, k) {
        var w = q < 0 ? 0 : M[q][k];
        s.style.background = q < 0 ? "" : colour(w);
        s.style.color = q < 0 ? "" : (w > 0.55 ? "#111" : "#fff");
        s.title = q < 0 ? "" : map.queries[q] + " \u2192 " + map.keys[k] + ": " + w.toFixed(4);
      });
    }
    map.queries.forEach(function (t, q) {
      var s = el("span", "query-token", t);
      s.onmouseenter = function () { s.classList.add("on"); shade(q); };
      s.onmouseleave = function () { s.classList.remove("on"); shade(-1); };
      qrow.appendChild(s);
    });
    [["queries", qrow], ["keys", krow]].forEach(function (r) {
      var row = el("div", "strip-row");
      row.appendChild(el("span", "strip-label", r[0]));
      row.appendChild(r[1]);
      box.appendChild(row);
    });
    return box;
  }
  function legend() {
    var box = el("div", "legend"), scale = el("div", "scale"), bar = el("div", "bar"), ticks = el("div", "ticks");
    bar.style.background = "linear-gradient(to top," + [0, 0.25, 0.5, 0.75, 1].map(colour).join(",") + ")";
    ["1.0", "0.5", "0.0"].forEach(function (t) { ticks.appendChild(el("span", "", t)); });
    scale.appendChild(bar);
    scale.appendChild(ticks);
    box.appendChild(el("div", "", "weight"));
    box.appendChild(scale);
    return box;
  }
  var app = document.getElementById("app");
  doc.inputs.forEach(function (input, n) {
    var sec = el("section", "input");
    sec.appendChild(el("h2", "", "Input " + (n + 1) + ": \u201c" + clip(input.text, 160) + "\u201d"));
    var p = el("p", "prediction");
    if (doc.task === "seq2seq") {
      p.appendChild(document.createTextNode("translation "));
      p.appendChild(el("b", "", "\u201c" + input.output + "\u201d"));
      p.appendChild(document.createTextNode(" (log-probability " + input.score.toFixed(3) + "; " +
                                            input.tokens.length + " source and " + input.output_tokens.length +
                                            " target tokens)"));
    } else {
      p.appendChild(document.createTextNode("predicted "));
      p.appendChild(el("b", "", input.output));
      p.appendChild(document.createTextNode(" with probability " + input.score.toFixed(4) + "; " +
                                            input.tokens.length + " tokens read"));
    }
    sec.appendChild(p);
    if (!input.maps.length) {
      sec.appendChild(el("p", "hint", "This model computed no attention weights."));
      app.appendChild(sec);
      return;
    }
    // A single query's maps (the attention pooling's) first, every head: which tokens it read.
    input.maps.forEach(function (m) {
      if (m.queries.length !== 1) return;
      sec.appendChild(el("h3", "", m.title));
      for (var h = 0; h <= m.weights.length; ++h) {
        var head = h < m.weights.length ? String(h) : "mean";
        var row = el("div", "strip-row");
        row.appendChild(el("span", "strip-label", head === "mean" ? "mean" : "head " + (h + 1)));
        row.appendChild(strip(m, head));
        sec.appendChild(row);
      }
    });
    var controls = el("div", "controls"), mapSel = el("select", "map-select"), headSel = el("select", "head-select");
    input.maps.forEach(function (m, i) {
      var o = el("option", "", m.title + " (" + m.name + ")");
      o.value = i;
      mapSel.appendChild(o);
    });
    var l1 = el("label", "", "map "), l2 = el("label", "", "head ");
    l1.appendChild(mapSel);
    l2.appendChild(headSel);
    controls.appendChild(l1);
    controls.appendChild(l2);
    sec.appendChild(controls);
    var stripBox = el("div"), figure = el("div", "figure"), canvas = el("canvas", "map"), tip = el("div", "tip");
    var tokenBox = el("div");
    figure.appendChild(canvas);
    figure.appendChild(legend());
    sec.appendChild(stripBox);
    sec.appendChild(figure);
    sec.appendChild(tip);
    sec.appendChild(el("p", "hint", "Point at a query token to shade the keys it attends to."));
    sec.appendChild(tokenBox);
    function heads() {
      var m = input.maps[+mapSel.value], keep = headSel.value;
      headSel.innerHTML = "";
      for (var h = 0; h < m.weights.length; ++h) {
        var o = el("option", "", String(h + 1));
        o.value = h;
        headSel.appendChild(o);
      }
      var mean = el("option", "", "mean of " + m.weights.length);
      mean.value = "mean";
      headSel.appendChild(mean);
      if (keep && (keep === "mean" || +keep < m.weights.length)) headSel.value = keep;
    }
    function redraw() {
      var m = input.maps[+mapSel.value];
      draw(canvas, tip, m, headSel.value);
      stripBox.innerHTML = "";
      if (m.queries.length === 1) stripBox.appendChild(strip(m, headSel.value));
      tokenBox.innerHTML = "";
      tokenBox.appendChild(tokenView(m, headSel.value));
    }
    mapSel.onchange = function () { heads(); redraw(); };
    headSel.onchange = redraw;
    // A translation opens on its alignment: the last cross-attention, averaged over heads.
    var cross = -1;
    input.maps.forEach(function (m, i) { if (/cross_mha$/.test(m.name)) cross = i; });
    if (cross >= 0) mapSel.value = cross;
    heads();
    if (cross >= 0) headSel.value = "mean";
    redraw();
    app.appendChild(sec);
  });
  // #selftest (the browser test): every head of the first input's first map drawn in turn, a
  // checksum of the canvas's pixels for each, and the keys the first query token shades when
  // pointed at, written into the page as JSON.
  if (location.hash === "#selftest") {
    var out = {inputs: doc.inputs.length, heads: []}, first = app.querySelector("section.input");
    var hs = first && first.querySelector(".head-select"), cv = first && first.querySelector("canvas.map");
    out.selectors = {map: !!(first && first.querySelector(".map-select")), head: !!hs};
    for (var i = 0; hs && i < hs.options.length; ++i) {
      hs.value = hs.options[i].value;
      hs.onchange();
      var d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data, sum = 0;
      for (var j = 0; j < d.length; j += 4) sum = (sum * 31 + d[j] + 3 * d[j + 1] + 7 * d[j + 2]) % 1000000007;
      out.heads.push(sum);
    }
    var qt = first && first.querySelector(".query-token");  // the token view under the pointer
    if (qt) {
      qt.dispatchEvent(new MouseEvent("mouseenter"));
      out.shaded = first.querySelectorAll(".token-view .strip")[1].querySelectorAll("span[style*=background]").length;
    }
    var pre = el("pre", "", JSON.stringify(out));
    pre.id = "selftest";
    document.body.appendChild(pre);
  }
})();
)JS";

// Before everything else: a script error shows on the page (and the browser test reads it).
const char* kErrorHook = R"JS(
window.addEventListener("error", function (e) {
  var pre = document.createElement("pre");
  pre.id = "script-error";
  pre.textContent = "script error: " + e.message;
  document.body.appendChild(pre);
});
)JS";

}  // namespace

const char* attention_style() { return kStyle; }

std::string attention_explorer(const nlohmann::json& doc) {
  std::string script = kScript;
  script.replace(script.find("@VIRIDIS@"), 9, nlohmann::json(viridis_stops()).dump());
  return "<script>" + std::string(kErrorHook) + "</script>\n<div id=\"app\"></div>\n" +
         "<script type=\"application/json\" id=\"attn-data\">" + script_safe(doc.dump()) + "</script>\n<script>" +
         script + "</script>\n";
}

std::string attention_page(const nlohmann::json& doc) {
  const std::string checkpoint = doc.value("checkpoint", "");
  std::string html = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>attn show: " +
                     escape_html(checkpoint) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  html += "<h1>Attention maps</h1>\n<p class=\"meta\">" + escape_html(checkpoint) + " &middot; " +
          escape_html(doc.value("task", "")) + " &middot; step " + std::to_string(doc.value("step", 0)) +
          " &middot; " + escape_html(doc.value("attention", "")) + " attention</p>\n";
  html += "<p class=\"hint\">" + std::string(attention_hint()) + "</p>\n";
  html += attention_explorer(doc) + "</body>\n</html>\n";
  return html;
}

const char* attention_hint() {
  return "Rows are queries, columns keys; each row's weights sum to 1 (a padded key gets 0 where the model masks "
         "padding; a decoder's rows are labelled by the token each position predicts). Move the pointer over a "
         "cell for its tokens and weight.";
}

std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace attn
