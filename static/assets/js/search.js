// Hearth search enhancements: suggestions under the header search box, and similar
// threads while a title is typed on the compose page. Progressive enhancement only:
// without this file the header form still submits to /search and composing works.
// The endpoints are the cookie-session twins of /api/v1/search/{suggest,similar}, so
// a member sees suggestions from every category they may read.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var t;
    return function () {
      var args = arguments;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  // highlighted copies the server's title_html into node keeping only text and <mark>:
  // the server already escapes everything else; this keeps it so even if it did not.
  function highlighted(node, html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    tpl.content.childNodes.forEach(function (n) {
      if (n.nodeType === 1 && n.nodeName === "MARK") {
        var m = document.createElement("mark");
        m.textContent = n.textContent;
        node.appendChild(m);
      } else {
        node.appendChild(document.createTextNode(n.textContent));
      }
    });
  }

  // fetcher returns a fetch of hits whose answers arrive in order: an older, slower
  // answer never replaces a newer one.
  function fetcher() {
    var latest = 0;
    return function (url, done) {
      var mine = ++latest;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { hits: [] }; })
        .then(function (body) { if (mine === latest) { done(body.hits || []); } })
        .catch(function () { if (mine === latest) { done([]); } });
    };
  }

  function item(hit, solvedLabel, id) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = hit.url;
    highlighted(a, hit.title_html || "");
    li.appendChild(a);
    if (id) { li.id = id; li.setAttribute("role", "option"); }
    if (hit.solved) {
      var b = document.createElement("span");
      b.className = "badge solved";
      b.textContent = "✓ " + solvedLabel;
      li.appendChild(b);
    }
    return li;
  }

  function suggest(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) { return; }
    var active = -1;
    var fetchHits = fetcher();
    function close() {
      list.hidden = true;
      list.textContent = "";
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function mark(i) {
      var items = list.querySelectorAll("li");
      if (!items.length) { return; }
      active = (i + items.length) % items.length;
      items.forEach(function (li, j) { li.setAttribute("aria-selected", j === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", items[active].id);
    }
    var run = debounce(function () {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      fetchHits(input.dataset.suggest + "?q=" + encodeURIComponent(q), function (hits) {
        list.textContent = "";
        hits.forEach(function (h, i) { list.appendChild(item(h, input.dataset.solved, "suggest-" + i)); });
        list.hidden = hits.length === 0;
        input.setAttribute("aria-expanded", hits.length ? "true" : "false");
        active = -1;
      });
    }, 150);
    input.addEventListener("input", run);
    input.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); mark(active + 1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); mark(active - 1); }
      else if (e.key === "Escape") { close(); }
      else if (e.key === "Enter" && active >= 0) {
        e.preventDefault();
        window.location.href = list.querySelectorAll("li a")[active].href;
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 200); });
  }

  function similar(section) {
    var input = document.getElementById(section.dataset.for);
    var list = section.querySelector("ul");
    if (!input || !list) { return; }
    var fetchHits = fetcher();
    var run = debounce(function () {
      var title = input.value.trim();
      if (title.length < 4) { section.hidden = true; return; }
      fetchHits(section.dataset.similar + "?title=" + encodeURIComponent(title), function (hits) {
        list.textContent = "";
        hits.forEach(function (h) { list.appendChild(item(h, section.dataset.solved)); });
        section.hidden = hits.length === 0;
      });
    }, 300);
    input.addEventListener("input", run);
    if (input.value) { run(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-suggest]").forEach(suggest);
    document.querySelectorAll("[data-similar]").forEach(similar);
  });
})();
