/* evalkit report helpers: sortable and searchable tables, paged tables, public register search.
   Plain JS, no network, data inserted with textContent only.
   Paged tables (table[data-paged]) carry every row as compact column-wise JSON (see
   evalkit.report.compact_rows), either in <script type="application/json" id=data-source> or in
   a separate script (data-script, e.g. register.js, which sets window.__ekData[data-key]) that is
   loaded on first use; the first page is plain HTML (or a hint) until then. */
(function () {
  "use strict";
  var collator = (typeof Intl !== "undefined" && Intl.Collator) ? new Intl.Collator("zh-CN") : null;
  function textCompare(a, b) { return collator ? collator.compare(a, b) : a.localeCompare(b, "zh-CN"); }
  function cellValue(row, i) {
    var c = row.cells[i];
    if (!c) { return ""; }
    var v = c.getAttribute("data-sort");
    return v !== null ? v : c.textContent.trim();
  }
  function compare(a, b) {
    var x = a === "" ? NaN : Number(a), y = b === "" ? NaN : Number(b);
    if (!isNaN(x) && !isNaN(y)) { return x - y; }
    if (!isNaN(x)) { return -1; }
    if (!isNaN(y)) { return 1; }
    return textCompare(a, b);
  }
  function makeSortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, i) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var d = compare(cellValue(r1, i), cellValue(r2, i));
          return asc ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }
  function filterTable(table, query, counter) {
    var q = query.trim().toLowerCase();
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var hit = q === "" || r.textContent.toLowerCase().indexOf(q) !== -1;
      r.classList.toggle("ek-hidden", !hit);
      if (hit) { shown += 1; }
    });
    if (counter) { counter.textContent = String(shown); }
  }

  /* each cell labelled by its column's header (the phone layout shows it before the value) */
  function labelCells(table) {
    if (!table.tHead || !table.tHead.rows.length || table.classList.contains("ek-heat-table")) { return; }
    var heads = Array.prototype.map.call(table.tHead.rows[0].cells, function (th) { return th.textContent.trim(); });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (r) {
        Array.prototype.forEach.call(r.cells, function (c, i) {
          if (heads[i] && c.colSpan === 1) { c.setAttribute("data-label", heads[i]); }
        });
      });
    });
  }

  /* ---- paged tables ---- */
  function decode(data) {
    var n = data.n, cols = data.columns, rows = new Array(n), i, j, k;
    for (i = 0; i < n; i += 1) { rows[i] = new Array(cols.length); }
    for (j = 0; j < cols.length; j += 1) {
      var c = cols[j];
      if (c.offsets) {
        for (i = 0; i < n; i += 1) {
          var parts = [];
          for (k = c.offsets[i]; k < c.offsets[i + 1]; k += 1) { parts.push(c.dict[c.codes[k]]); }
          rows[i][j] = parts.join(c.sep);
        }
      } else if (c.dict) {
        for (i = 0; i < n; i += 1) { rows[i][j] = c.dict[c.codes[i]]; }
      } else {
        for (i = 0; i < n; i += 1) { rows[i][j] = c.values[i] === null ? "" : String(c.values[i]); }
      }
    }
    return rows;
  }
  function firstLink(table) {  /* the first shown row's link, if any, takes the focus */
    var rows = table.tBodies[0] ? table.tBodies[0].rows : [], i;
    for (i = 0; i < rows.length; i += 1) {
      if (rows[i].classList.contains("ek-hidden")) { continue; }
      var a = rows[i].querySelector("a[href]");
      if (a) { a.focus(); return; }
    }
  }
  function Paged(table) {
    var id = table.id;
    this.table = table;
    this.size = Number(table.getAttribute("data-page-size")) || 50;
    this.input = document.querySelector('input.ek-search[data-table="' + id + '"]');
    this.counter = document.getElementById(id + "-count");
    this.pageLabel = document.getElementById(id + "-page");
    this.pager = document.querySelector('.ek-pager[data-table="' + id + '"]');
    this.rows = null; this.keys = null; this.order = null;
    /* a link column's URLs travel as an unshown data column (data-href-col) */
    this.hrefCol = table.hasAttribute("data-href-col") ? Number(table.getAttribute("data-href-col")) : -1;
    this.page = 0; this.sortCol = -1; this.asc = true; this.query = "";
    this.loading = false; this.pending = null;
    var self = this;
    if (this.input) {
      this.input.addEventListener("focus", function () { self.load(null); });
      /* Enter: search now, then go to the first result's link (Enter again opens it) */
      this.input.addEventListener("keydown", function (e) {
        if (e.key !== "Enter") { return; }
        e.preventDefault();
        self.query = self.input.value;
        self.load(function () { self.filter(); firstLink(self.table); });
      });
      this.input.addEventListener("input", function () {
        self.query = self.input.value;
        self.load(function () { self.filter(); });
      });
    }
    if (this.pager) {
      Array.prototype.forEach.call(this.pager.querySelectorAll("button[data-step]"), function (b) {
        b.addEventListener("click", function () {
          var step = Number(b.getAttribute("data-step"));
          self.load(function () { self.go(self.page + step); });
        });
      });
    }
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, i) {
      th.addEventListener("click", function () {
        var col = (self.hrefCol >= 0 && i >= self.hrefCol) ? i + 1 : i;  /* header → data column */
        self.load(function () { self.sort(col, th, heads); });
      });
    });
  }
  Paged.prototype.load = function (then) {
    var self = this;
    if (this.rows) { if (then) { then(); } return; }
    if (then) { this.pending = then; }
    if (this.loading) { return; }
    var inline = this.table.getAttribute("data-source");
    if (inline) {
      var src = document.getElementById(inline);
      this.ready(src ? JSON.parse(src.textContent) : { n: 0, columns: [] });
      return;
    }
    var file = this.table.getAttribute("data-script"), key = this.table.getAttribute("data-key");
    var store = window.__ekData || {};
    if (store[key]) { this.ready(store[key]); return; }
    this.loading = true;
    this.table.setAttribute("data-state", "loading");
    if (this.counter) { this.counter.textContent = this.table.getAttribute("data-loading") || "…"; }
    var s = document.createElement("script");
    s.src = file;
    s.async = true;
    s.onload = function () {
      self.loading = false;
      var data = (window.__ekData || {})[key];
      if (!data) { self.table.setAttribute("data-state", "failed"); return; }
      self.ready(data);
    };
    s.onerror = function () { self.loading = false; self.table.setAttribute("data-state", "failed"); };
    document.head.appendChild(s);
  };
  Paged.prototype.ready = function (data) {
    this.rows = decode(data);
    var skip = this.hrefCol;
    this.keys = this.rows.map(function (r) {
      return r.filter(function (v, j) { return j !== skip; }).join("\u0001").toLowerCase();
    });
    this.order = this.rows.map(function (r, i) { return i; });
    this.query = this.input ? this.input.value : "";
    this.table.setAttribute("data-state", "ready");
    var then = this.pending;
    this.pending = null;
    this.filter();
    if (then) { then(); }
  };
  Paged.prototype.filter = function () {
    var q = this.query.trim().toLowerCase(), keys = this.keys, order = [], i;
    for (i = 0; i < keys.length; i += 1) { if (q === "" || keys[i].indexOf(q) !== -1) { order.push(i); } }
    this.order = order;
    if (this.sortCol >= 0) { this.applySort(); }
    this.go(0);
  };
  Paged.prototype.applySort = function () {
    var rows = this.rows, col = this.sortCol, sign = this.asc ? 1 : -1;
    this.order.sort(function (a, b) { return sign * compare(rows[a][col], rows[b][col]) || a - b; });
  };
  Paged.prototype.sort = function (i, th, heads) {
    this.asc = !(this.sortCol === i && this.asc);
    this.sortCol = i;
    Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", this.asc ? "ascending" : "descending");
    this.applySort();
    this.go(0);
  };
  Paged.prototype.go = function (page) {
    var pages = Math.max(1, Math.ceil(this.order.length / this.size));
    this.page = Math.min(Math.max(0, page), pages - 1);
    var body = this.table.tBodies[0], frag = document.createDocumentFragment();
    var end = Math.min(this.order.length, (this.page + 1) * this.size), i;
    var linkCol = this.table.hasAttribute("data-link-col") ? Number(this.table.getAttribute("data-link-col")) : -1;
    var hrefCol = this.table.hasAttribute("data-href-col") ? Number(this.table.getAttribute("data-href-col")) : -1;
    for (i = this.page * this.size; i < end; i += 1) {
      var tr = document.createElement("tr"), row = this.rows[this.order[i]];
      row.forEach(function (value, j) {
        if (j === hrefCol) { return; }  /* the URLs of the link column: not a column of its own */
        var td = document.createElement("td");
        if (j === linkCol && row[hrefCol]) {
          var a = document.createElement("a");
          a.setAttribute("href", row[hrefCol]);  /* a relative page of the set, built by evalkit */
          a.textContent = value;
          td.appendChild(a);
        } else {
          td.textContent = value;
        }
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    }
    if (!this.order.length) {  /* a search with no match says so */
      var none = document.createElement("tr"), cell = document.createElement("td");
      cell.colSpan = this.table.tHead ? this.table.tHead.rows[0].cells.length : 1;
      cell.className = "ek-muted";
      cell.textContent = this.table.getAttribute("data-none") || "\u2013";
      none.appendChild(cell);
      frag.appendChild(none);
    }
    body.textContent = "";
    body.appendChild(frag);
    labelCells(this.table);
    if (this.counter) { this.counter.textContent = String(this.order.length); }
    if (this.pageLabel) { this.pageLabel.textContent = (this.page + 1) + " / " + pages; }
    if (this.pager) {
      var b = this.pager.querySelectorAll("button[data-step]"), self = this;
      Array.prototype.forEach.call(b, function (btn) {
        var step = Number(btn.getAttribute("data-step"));
        btn.disabled = step < 0 ? self.page === 0 : self.page >= pages - 1;
      });
    }
  };

  /* print (issue 15): every row of every paged table, folded details opened; back after */
  Paged.prototype.printAll = function (on) {
    if (!on) {
      if (this.printing) {
        this.printing = false; this.size = this.screenSize; this.go(this.screenPage);
        this.table.removeAttribute("data-print");
      }
      return;
    }
    var self = this;
    this.load(function () {
      if (!self.printing) { self.screenSize = self.size; self.screenPage = self.page; self.printing = true; }
      self.size = Math.max(1, self.order.length);
      self.go(0);
      self.table.setAttribute("data-print", "all");  /* every row is in the table */
    });
  };
  var paged = [], opened = [];
  function printing(on) {
    paged.forEach(function (p) { p.printAll(on); });
    if (on) {
      document.querySelectorAll("details:not([open])").forEach(function (d) { d.open = true; opened.push(d); });
    } else {
      opened.forEach(function (d) { d.open = false; });
      opened = [];
    }
  }
  window.addEventListener("beforeprint", function () { printing(true); });
  window.addEventListener("afterprint", function () { printing(false); });
  if (window.matchMedia) {  /* print-media emulation and browsers that skip beforeprint */
    var mq = window.matchMedia("print");
    var onChange = function (e) { printing(e.matches); };
    if (mq.addEventListener) { mq.addEventListener("change", onChange); } else if (mq.addListener) { mq.addListener(onChange); }
  }

  document.querySelectorAll("table.ek-table").forEach(labelCells);
  document.querySelectorAll("table.ek-table[data-paged]").forEach(function (table) { paged.push(new Paged(table)); });
  document.querySelectorAll("table.ek-table:not([data-paged])").forEach(makeSortable);
  document.querySelectorAll("input.ek-search").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    var counter = document.getElementById(input.getAttribute("data-table") + "-count");
    if (!table || table.hasAttribute("data-paged") || !table.tBodies || !table.tBodies.length) { return; }
    filterTable(table, "", counter);
    input.addEventListener("input", function () { filterTable(table, input.value, counter); });
    input.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") { return; }
      e.preventDefault();
      filterTable(table, input.value, counter);
      firstLink(table);
    });
  });
})();
