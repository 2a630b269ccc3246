// pipeproof report: filters by framework, domain and status, sortable tables, expand/collapse findings.
// Without JavaScript everything stays visible; this script only adds the toolbar and the behaviour.
(function () {
  "use strict";
  var doc = document;
  var all = function (selector, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(selector)); };
  var make = function (tag, attributes, text) {
    var element = doc.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { element.setAttribute(name, attributes[name]); });
    if (text !== undefined) { element.textContent = text; }
    return element;
  };
  var controls = all("article.control");
  var statusLabels = { pass: "Pass", fail: "Fail", unknown: "Unknown", waived: "Waived", not_applicable: "Not applicable",
    attested: "Attested", manual: "Manual" };

  function distinct(values) {
    return values.filter(function (value, index) { return value && values.indexOf(value) === index; }).sort();
  }

  function select(id, label, options) {
    var wrapper = make("label", { "for": id }, label + " ");
    var element = make("select", { id: id });
    element.appendChild(make("option", { value: "" }, "All"));
    options.forEach(function (option) { element.appendChild(make("option", { value: option[0] }, option[1])); });
    wrapper.appendChild(element);
    return wrapper;
  }

  var toolbar = make("div", { id: "filters", "class": "filters", role: "search", "aria-label": "Filter the report" });
  var frameworks = all("article.framework").map(function (a) { return [a.dataset.framework, a.dataset.name]; });
  toolbar.appendChild(select("filter-framework", "Framework", frameworks));
  var domains = distinct(controls.map(function (c) { return c.dataset.domain; }));
  toolbar.appendChild(select("filter-domain", "Domain", domains.map(function (d) { return [d, d]; })));
  var order = Object.keys(statusLabels);
  var statuses = distinct(all("[data-status]").map(function (e) { return e.dataset.status; }))
    .sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); });
  var statusBox = make("fieldset", { "class": "statuses" });
  statusBox.appendChild(make("legend", {}, "Status"));
  statuses.forEach(function (status) {
    var label = make("label", { "class": "status-choice" });
    var box = make("input", { type: "checkbox", id: "filter-status-" + status, value: status });
    box.checked = true;
    label.appendChild(box);
    label.appendChild(doc.createTextNode(" " + (statusLabels[status] || status)));
    statusBox.appendChild(label);
  });
  toolbar.appendChild(statusBox);
  var expand = make("button", { type: "button", id: "expand-all" }, "Expand all findings");
  var collapse = make("button", { type: "button", id: "collapse-all" }, "Collapse all findings");
  toolbar.appendChild(expand);
  toolbar.appendChild(collapse);
  var count = make("output", { id: "filter-count", "aria-live": "polite" });
  toolbar.appendChild(count);
  var nav = doc.querySelector("nav.toc");
  nav.parentNode.insertBefore(toolbar, nav.nextSibling);

  function apply() {
    var framework = doc.getElementById("filter-framework").value;
    var domain = doc.getElementById("filter-domain").value;
    var shown = {};
    all("input", statusBox).forEach(function (box) { shown[box.value] = box.checked; });
    var statusOk = function (element) { return shown[element.dataset.status] !== false; };
    var frameworkOk = function (element) { return !framework || element.dataset.framework === framework; };
    var visible = 0;
    controls.forEach(function (control) {
      var mapped = (control.dataset.frameworks || "").split(" ");
      var keep = (!framework || mapped.indexOf(framework) >= 0) && (!domain || control.dataset.domain === domain) &&
        statusOk(control);
      control.hidden = !keep;
      if (keep) { visible += 1; }
      all("tr[data-status]", control).forEach(function (row) { row.hidden = !statusOk(row); });
    });
    all("[data-framework]").forEach(function (element) { element.hidden = !frameworkOk(element); });
    all("article.framework tr[data-status]").forEach(function (row) { row.hidden = !statusOk(row); });
    count.textContent = "Showing " + visible + " of " + controls.length + " controls";
  }

  toolbar.addEventListener("change", apply);
  expand.addEventListener("click", function () { all("details.findings").forEach(function (d) { d.open = true; }); });
  collapse.addEventListener("click", function () { all("details.findings").forEach(function (d) { d.open = false; }); });

  function cellValue(row, index) {
    var cell = row.cells[index];
    var text = cell ? cell.textContent.trim() : "";
    var number = parseFloat(text.replace(/[%,]/g, ""));
    return /^-?[\d.,]+%?$/.test(text) && !isNaN(number) ? number : text;
  }

  // Numbers by value; text in natural order, so E9 comes before E11.
  function compare(x, y) {
    if (typeof x === "number" && typeof y === "number") { return x - y; }
    return String(x).localeCompare(String(y), undefined, { numeric: true, sensitivity: "base" });
  }

  all("table.sortable").forEach(function (table) {
    all("thead th", table).forEach(function (header, index) {
      var button = make("button", { type: "button", "class": "sort" }, header.textContent);
      header.textContent = "";
      header.appendChild(button);
      header.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var ascending = header.getAttribute("aria-sort") !== "ascending";
        all("thead th", table).forEach(function (other) { other.setAttribute("aria-sort", "none"); });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var order = compare(cellValue(a, index), cellValue(b, index));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  apply();
})();
