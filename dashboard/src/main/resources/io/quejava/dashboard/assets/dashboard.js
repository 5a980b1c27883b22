// que-java dashboard: the page's only script (the Content-Security-Policy allows no inline script).
// It reloads pages that ask for it (data-refresh on <body>, in seconds) unless the reader is typing,
// and asks for confirmation before forms marked data-confirm are sent.
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (seconds > 0) {
    setInterval(function () {
      var a = document.activeElement;
      if (a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA")) {
        return;
      }
      window.location.reload();
    }, seconds * 1000);
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
    }
  });
})();
