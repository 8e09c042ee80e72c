// Every page: "/" focuses the search box in the header.
(function () {
  "use strict";
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.altKey || e.ctrlKey || e.metaKey) return;
    var t = e.target;
    if (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA" || t.isContentEditable) return;
    var box = document.getElementById("search-box");
    if (!box) return;
    e.preventDefault();
    box.focus();
    box.select();
  });
})();
