// Segment rule builder (/crm/segments), progressive enhancement only: the page works
// without this script (Preview submits the form and the server counts). With it, the
// count updates while the rule is edited, and each row's operator list offers only
// the operators its field allows (the server refuses the others either way).
(function () {
  "use strict";
  var form = document.getElementById("segment-form");
  if (!form || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var out = document.getElementById("seg-live");
  var timer = null;
  var seq = 0;

  function filterOps(row) {
    var field = row.querySelector(".seg-field");
    var op = row.querySelector(".seg-op");
    if (!field || !op) {
      return;
    }
    var chosen = field.options[field.selectedIndex];
    var allowed = chosen && chosen.getAttribute("data-ops") ? chosen.getAttribute("data-ops").split(" ") : null;
    var first = null;
    for (var i = 0; i < op.options.length; i++) {
      var o = op.options[i];
      var ok = !allowed || allowed.indexOf(o.value) >= 0;
      o.hidden = !ok;
      o.disabled = !ok;
      if (ok && !first) {
        first = o;
      }
    }
    if (op.options[op.selectedIndex] && op.options[op.selectedIndex].disabled && first) {
      op.value = first.value;
    }
  }

  function count() {
    var body = new URLSearchParams(new FormData(form));
    body.delete("action");
    var mine = ++seq;
    fetch(form.getAttribute("data-count"), {
      method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, j: j }; });
    }).then(function (res) {
      if (mine !== seq) {
        return; // a newer edit is being counted
      }
      if (res.ok) {
        out.textContent = form.getAttribute("data-live").replace("#", String(res.j.count));
      } else {
        out.textContent = res.j.error && res.j.error.message ? res.j.error.message : "";
      }
    }).catch(function () { out.textContent = ""; });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(count, 350);
  }

  var rows = form.querySelectorAll(".seg-rows tbody tr");
  for (var i = 0; i < rows.length; i++) {
    filterOps(rows[i]);
  }
  form.addEventListener("change", function (e) {
    if (e.target.classList.contains("seg-field")) {
      filterOps(e.target.closest("tr"));
    }
    schedule();
  });
  form.addEventListener("input", schedule);
})();
