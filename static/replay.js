// Step-through of a replay: keys, buttons, timeline, autoplay and the
// message addressed by the URL's fragment. Without this script the page
// still shows every message; links to #m-… still work.
(function () {
  "use strict";
  var steps = Array.prototype.slice.call(document.querySelectorAll(".step"));
  var timeline = document.getElementById("timeline");
  var cursor = document.getElementById("cursor");
  var position = document.getElementById("position");
  var playButton = document.getElementById("play");
  var speed = document.getElementById("speed");
  var pagesEl = document.getElementById("anchor-pages");
  var anchorPages = pagesEl ? JSON.parse(pagesEl.textContent) : {};
  var current = -1;
  var timer = null;

  function link(id) { var a = document.getElementById(id); return a ? a.getAttribute("href") : null; }

  function openAncestors(el) {
    for (var p = el.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") p.open = true;
    }
  }

  function select(i, scroll) {
    if (i < 0 || i >= steps.length) return;
    if (current >= 0) steps[current].classList.remove("current");
    current = i;
    var el = steps[i];
    el.classList.add("current");
    openAncestors(el);
    if (scroll !== false) el.scrollIntoView({ block: "center" });
    if (history.replaceState) history.replaceState(null, "", "#" + el.id);
    if (position) position.textContent = "message " + (i + 1) + " of " + steps.length;
    var x = parseInt(el.getAttribute("data-x") || "-1", 10);
    if (cursor && x >= 0) cursor.setAttribute("x", String(x));
  }

  function next() {
    if (current < steps.length - 1) { select(current + 1); return true; }
    var href = link("next-page");
    if (href) { location.href = href + "#start"; }
    return false;
  }

  function prev() {
    if (current > 0) { select(current - 1); return; }
    var href = link("prev-page");
    if (href) location.href = href + "#end";
  }

  function stop() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (playButton) { playButton.textContent = "▶ Play"; playButton.classList.remove("on"); }
  }

  function tick() {
    if (!next()) { stop(); return; }
    timer = setTimeout(tick, 1500 / parseFloat(speed ? speed.value : "1"));
  }

  function toggle() {
    if (timer) { stop(); return; }
    if (playButton) { playButton.textContent = "❚❚ Pause"; playButton.classList.add("on"); }
    if (current < 0) select(0);
    timer = setTimeout(tick, 1500 / parseFloat(speed ? speed.value : "1"));
  }

  // goTo selects the message a fragment names, loading its page if it is
  // on another one.
  function goTo(hash) {
    var id = decodeURIComponent(hash.replace(/^#/, ""));
    if (id === "start") { select(0); return; }
    if (id === "end") { select(steps.length - 1); return; }
    if (!id) return;
    var el = document.getElementById(id);
    if (el) {
      var i = steps.indexOf(el);
      if (i >= 0) select(i); else { openAncestors(el); el.scrollIntoView({ block: "center" }); }
      return;
    }
    var page = anchorPages[id];
    if (page) location.replace("?page=" + page + "#" + id);
  }

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var t = e.target.tagName;
    if (t === "INPUT" || t === "SELECT" || t === "TEXTAREA" || e.target.isContentEditable) return;
    switch (e.key) {
      case "ArrowRight": case "j": stop(); next(); break;
      case "ArrowLeft": case "k": stop(); prev(); break;
      case "Home": stop(); select(0); break;
      case "End": stop(); select(steps.length - 1); break;
      case "p": toggle(); break;
      default: return;
    }
    e.preventDefault();
  });

  function on(id, fn) { var el = document.getElementById(id); if (el) el.addEventListener("click", function () { stop(); fn(); }); }
  on("first", function () { select(0); });
  on("prev", prev);
  on("next", next);
  on("last", function () { select(steps.length - 1); });
  if (playButton) playButton.addEventListener("click", toggle);

  if (timeline) {
    timeline.addEventListener("click", function (e) {
      var a = e.target.closest ? e.target.closest("a") : null;
      if (!a) return;
      var id = a.getAttribute("data-anchor");
      if (document.getElementById(id)) { e.preventDefault(); stop(); goTo("#" + id); }
    });
  }

  document.getElementById("steps").addEventListener("click", function (e) {
    if (e.target.closest("a, summary, button")) return;
    var el = e.target.closest(".step");
    var i = steps.indexOf(el);
    if (i >= 0 && i !== current) select(i, false);
  });

  // live.js appends and replaces steps as the session grows.
  document.addEventListener("replay:steps", function () {
    var id = current >= 0 ? steps[current].id : "";
    steps = Array.prototype.slice.call(document.querySelectorAll(".step"));
    current = id ? steps.indexOf(document.getElementById(id)) : -1;
    if (current >= 0) steps[current].classList.add("current");
  });

  window.addEventListener("hashchange", function () { goTo(location.hash); });
  if (location.hash) goTo(location.hash);
  else if (position) position.textContent = steps.length + " messages on this page";
})();
