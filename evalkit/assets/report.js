/* evalkit report helpers: sortable and searchable tables, public register search.
   Plain JS, no network, data inserted with textContent only. */
(function () {
  "use strict";
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
    return a.localeCompare(b, "zh-CN");
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
  function buildRegister(table) {
    var src = document.getElementById(table.getAttribute("data-source"));
    if (!src) { return; }
    var data = JSON.parse(src.textContent);
    var body = table.tBodies[0];
    data.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      row.forEach(function (value) {
        var td = document.createElement("td");
        td.textContent = value === null ? "" : String(value);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  document.querySelectorAll("table[data-register]").forEach(buildRegister);
  document.querySelectorAll("table.ek-table").forEach(makeSortable);
  document.querySelectorAll("input.ek-search").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    var counter = document.getElementById(input.getAttribute("data-table") + "-count");
    if (!table || !table.tBodies || !table.tBodies.length) { return; }
    filterTable(table, "", counter);
    input.addEventListener("input", function () { filterTable(table, input.value, counter); });
  });
})();
