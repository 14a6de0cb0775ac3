/* okrsite search: filters the prebuilt index (window.OKRSITE_SEARCH) in the page.
   No network, no fetch(): works offline and from file://. Results are inserted
   as text nodes only, never as HTML. */
(function () {
  "use strict";
  var box = document.getElementById("search-box");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var page = document.querySelector(".search-page");
  if (!box || !list || !status || !page) return;
  var root = page.getAttribute("data-root") || "./";
  var items = window.OKRSITE_SEARCH || [];
  var LIMIT = 50;

  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  var folded = items.map(function (it) {
    return { title: fold(it.t), all: fold(it.t + " " + it.s + " " + it.k) };
  });

  function search(query) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    var hits = [];
    for (var i = 0; i < items.length; i++) {
      var f = folded[i];
      var ok = words.every(function (w) { return f.all.indexOf(w) !== -1; });
      if (!ok) continue;
      var rank = f.title.indexOf(words[0]) === 0 ? 0 : (f.title.indexOf(words[0]) !== -1 ? 1 : 2);
      hits.push({ rank: rank, order: i, item: items[i] });
    }
    hits.sort(function (a, b) { return a.rank - b.rank || a.order - b.order; });
    return hits.map(function (h) { return h.item; });
  }

  function show(query) {
    var hits = search(query);
    while (list.firstChild) list.removeChild(list.firstChild);
    hits.slice(0, LIMIT).forEach(function (it) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = root + it.u;
      a.textContent = it.t;
      var kind = document.createElement("span");
      kind.className = "result-kind";
      kind.textContent = it.k;
      li.appendChild(kind);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(a);
      if (it.s) {
        var sub = document.createElement("span");
        sub.className = "result-context";
        sub.textContent = it.s;
        li.appendChild(sub);
      }
      list.appendChild(li);
    });
    if (!query.trim()) status.textContent = "Type to search " + items.length + " teams, goals and people.";
    else if (!hits.length) status.textContent = "No matches for \u201c" + query + "\u201d.";
    else status.textContent = hits.length + (hits.length === 1 ? " match" : " matches") +
      (hits.length > LIMIT ? ", showing the first " + LIMIT : "") + ".";
  }

  var params = new URLSearchParams(window.location.search);
  box.value = params.get("q") || "";
  var header = document.getElementById("site-search");
  if (header) header.value = box.value;
  box.addEventListener("input", function () { show(box.value); });
  show(box.value);
  if (!box.value) box.focus();
})();
