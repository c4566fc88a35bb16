/* evalkit app details viewer: <code>/apps.html#app=<slug> shows one candidate app of the province.
   The details travel in data files <code>/apps/<k>.js (k = the slug's last 8 hex digits modulo
   data-app-shards; evalkit.publish.app_pages.app_shard), each setting window.__ekApps[k] to
   {apps|criteria|waivers|history|overlaps|providers: {n, groups: [{cols, dict, codes}]}}: row i
   of a table has the columns cols = dict[codes[i]] of each group (the value itself for one column). The criteria rows of the apps
   follow one another in the apps table's order (n_criteria each). A data file is loaded with a
   <script> element (fetch is refused on file://). Plain JS, no network, data inserted with
   textContent only. */
(function () {
  "use strict";
  var root = document.getElementById("ek-app");
  var words = document.getElementById("ek-app-words");
  if (!root || !words) { return; }
  var text = JSON.parse(words.textContent);
  var shards = Number(root.getAttribute("data-app-shards")) || 1;
  var base = root.getAttribute("data-app-data") || "apps/";
  var msg = document.getElementById("ek-app-msg");
  var title = document.getElementById("ek-app-title");
  var cache = {};

  function wanted() {
    var m = /(?:^#|&)app=([^&]*)/.exec(window.location.hash);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function shardOf(slug) {
    var h = /^.*-([0-9a-f]{8})$/.exec(slug);
    return h ? parseInt(h[1], 16) % shards : -1;
  }
  function load(k, done) {
    var data = window.__ekApps && window.__ekApps[k];
    if (data) { done(data); return; }
    var s = document.createElement("script");
    s.src = base + k + ".js";
    s.onload = function () { done(window.__ekApps && window.__ekApps[k]); };
    s.onerror = function () { done(null); };
    document.head.appendChild(s);
  }
  /* rows from..to of a table of a data file as objects {column: text} */
  function decode(table, from, to) {
    var out = [], i;
    for (i = from; i < to; i += 1) {
      var o = {};
      table.groups.forEach(function (g) {
        var v = g.dict[g.codes[i]];
        if (g.cols.length === 1) { o[g.cols[0]] = v; } else { g.cols.forEach(function (c, j) { o[c] = v[j]; }); }
      });
      out.push(o);
    }
    return out;
  }
  /* every row of one table of a data file, decoded once */
  function rows(k, data, name) {
    var key = k + "/" + name;
    if (!cache[key]) { cache[key] = decode(data[name], 0, data[name].n); }
    return cache[key];
  }
  /* the criteria rows of the app at position `at` of the data file's apps table */
  function criteria(data, apps, at) {
    var start = 0, i;
    for (i = 0; i < at; i += 1) { start += Number(apps[i].n_criteria); }
    return decode(data.criteria, start, start + Number(apps[at].n_criteria));
  }
  function where(list, col, value) { return list.filter(function (r) { return r[col] === value; }); }
  function show(what, on) {
    root.querySelectorAll('[data-show="' + what + '"]').forEach(function (el) { el.hidden = !on; });
  }
  function fill(obj) {
    Object.keys(obj).forEach(function (k) {
      root.querySelectorAll('[data-k="' + k + '"]').forEach(function (td) {
        var v = obj[k] === null || obj[k] === undefined ? "" : String(obj[k]);
        td.textContent = v === "" ? "\u2013" : v;
        var row = td.parentNode;
        if (row && row.hasAttribute("data-opt")) { row.hidden = v === ""; }
      });
    });
  }
  function table(id, list, extra) {
    var t = document.getElementById(id);
    var heads = Array.prototype.map.call(t.tHead.rows[0].cells, function (th) { return th.textContent.trim(); });
    var body = t.tBodies[0], frag = document.createDocumentFragment(), all = list.concat(extra || []);
    all.forEach(function (r) {
      var tr = document.createElement("tr");
      r.cells.forEach(function (v, i) {
        var td = document.createElement("td");
        if (r.href && r.href[i]) {
          var a = document.createElement("a");
          a.setAttribute("href", r.href[i]);
          a.textContent = v;
          td.appendChild(a);
        } else {
          td.textContent = v;
        }
        if (heads[i]) { td.setAttribute("data-label", heads[i]); }
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    body.textContent = "";
    body.appendChild(frag);
    var wrap = root.querySelector('[data-wrap="' + id + '"]'), none = root.querySelector('[data-empty="' + id + '"]');
    if (none) { none.hidden = all.length > 0; if (wrap) { wrap.hidden = all.length === 0; } }
  }
  function cells(list, cols, hrefs) {
    return list.map(function (r) {
      return {cells: cols.map(function (c) { return r[c] || ""; }),
              href: hrefs ? cols.map(function (c) { return r["href_" + c] || ""; }) : null};
    });
  }
  function message(s) {
    root.hidden = true;
    msg.hidden = false;
    msg.textContent = s;
    root.setAttribute("data-state", "ready");
  }
  function render() {
    var slug = wanted(), k = shardOf(slug);
    root.removeAttribute("data-state");
    if (!slug) { message(text.choose); return; }
    if (k < 0) { message(text.not_found); return; }
    load(k, function (data) {
      var apps = data ? rows(k, data, "apps") : [], at = -1, i;
      for (i = 0; i < apps.length; i += 1) { if (apps[i].slug === slug) { at = i; break; } }
      if (at < 0) { message(text.not_found); return; }
      var app = apps[at];
      var heading = text.title[0] + app.app_name + text.title[1];
      title.textContent = heading;
      document.title = heading;
      fill(app);
      show("excluded", app.excluded === "1");
      show("unscored", app.unscored === "1");
      table("criteria", cells(criteria(data, apps, at), text.criteria));
      table("waivers", cells(where(rows(k, data, "waivers"), "slug", slug), text.waivers));
      var over = where(rows(k, data, "overlaps"), "slug", slug);
      table("overlaps", cells(over, ["app_name", "app_id", "similarity"], true));
      show("overlaps", over.length > 0);
      table("history", cells(where(rows(k, data, "history"), "slug", slug), ["as_of", "status"]),
            [{cells: [text.this_cycle, app.this_status], href: null}]);
      var credit = where(rows(k, data, "providers"), "provider_id", app.provider_id)[0];
      if (credit) { fill(credit); }
      show("credit", !!credit);
      document.getElementById("ek-credit-link").setAttribute("href", app.href_credit);
      msg.hidden = true;
      root.hidden = false;
      root.setAttribute("data-state", "ready");
      if (window.performance && performance.mark) { performance.mark("ek-app-ready"); }  /* benchmarks read it */
    });
  }
  window.addEventListener("hashchange", function () { render(); window.scrollTo(0, 0); });
  render();
})();
