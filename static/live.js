// Live updates, over the server's event stream: a replay on its last page
// appends the messages written since it loaded, and the sessions list marks
// the sessions being written. The stream's retry line makes the browser
// connect again within a second after the daemon restarts; a replay's stream
// starts with the session's state, so that what came meanwhile is fetched.
// New steps arrive as HTML the server rendered and escaped, as on the page.
(function () {
  "use strict";
  if (!window.EventSource) return;

  // onSession follows a stream while the page is visible. A hidden tab lets
  // its connection go (a browser opens only six to one server, and every
  // open tab would hold one), and connects again when shown: a replay's
  // stream starts with the session as it is, so nothing is missed.
  function onSession(url, fn) {
    var es = null;
    function open() {
      if (es) return;
      es = new EventSource(url);
      es.addEventListener("session", function (e) {
        var ev;
        try { ev = JSON.parse(e.data); } catch (err) { return; }
        if (ev && typeof ev.id === "string") fn(ev);
      });
    }
    function close() { if (es) { es.close(); es = null; } }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") close(); else open();
    });
    if (document.visibilityState !== "hidden") open();
  }

  function followReplay(article) {
    var id = article.getAttribute("data-session");
    var lastSeq = article.getAttribute("data-last-seq") || "0";
    var known = article.getAttribute("data-messages");
    var onLastPage = article.getAttribute("data-page") === article.getAttribute("data-pages");
    var steps = document.getElementById("steps");
    var count = document.getElementById("message-count");
    var busy = false, again = false;

    function insert(html, replaced) {
      var t = document.createElement("template");
      t.innerHTML = html;
      var end = steps.querySelector(":scope > li.orphans");
      var empty = steps.querySelector(":scope > li.empty");
      var added = Array.prototype.slice.call(t.content.children);
      if (empty && added.length) empty.remove();
      added.forEach(function (li) {
        var old = li.id ? document.getElementById(li.id) : null;
        if (old) old.replaceWith(li);
        else if (replaced.indexOf(li.id) < 0) steps.insertBefore(li, end);
      });
      if (added.length) document.dispatchEvent(new Event("replay:steps"));
    }

    function fetchSteps() {
      if (busy) { again = true; return; }
      busy = true;
      fetch("/sessions/" + encodeURIComponent(id) + "/steps?after=" + encodeURIComponent(lastSeq), { cache: "no-store" })
        .then(function (res) {
          if (!res.ok) throw new Error("new steps: HTTP " + res.status);
          var seq = res.headers.get("X-Last-Seq");
          var replaced = (res.headers.get("X-Replaced") || "").split(" ");
          return res.text().then(function (html) {
            insert(html, replaced);
            if (seq) lastSeq = seq;
          });
        })
        .catch(function (err) { console.warn(String(err)); })
        .then(function () {
          busy = false;
          if (again) { again = false; fetchSteps(); }
        });
    }

    onSession("/api/sessions/" + encodeURIComponent(id) + "/events", function (ev) {
      if (ev.id !== id) return;
      var n = String(ev.messages);
      if (n === known) return;
      known = n;
      if (count) count.textContent = n;
      if (onLastPage) fetchSteps();
    });
  }

  function followList(table) {
    onSession("/api/events", function (ev) {
      var title = table.querySelector('td[data-session="' + CSS.escape(ev.id) + '"]');
      if (!title) return;
      var row = title.closest("tr");
      var cell = row.querySelector("td.messages");
      if (cell) cell.textContent = String(ev.messages);
      if (row.querySelector(".live")) return;
      var link = row.querySelector("td.title a");
      if (!link) return;
      var badge = document.createElement("span");
      badge.className = "badge live";
      badge.title = "written to in the last 5 minutes";
      badge.textContent = "live";
      link.after(badge);
    });
  }

  var article = document.querySelector("article.replay[data-session]");
  if (article) followReplay(article);
  var table = document.querySelector("table.sessions");
  if (table) followList(table);
})();
