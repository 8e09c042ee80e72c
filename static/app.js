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

// The SQL explorer: Ctrl+Enter (or Cmd+Enter) in the query box runs it.
(function () {
  "use strict";
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var t = e.target;
    if (t.tagName !== "TEXTAREA" || t.name !== "sql" || !t.form) return;
    e.preventDefault();
    t.form.requestSubmit();
  });
})();
