// The gap board with htmx. Every form and link on the board works without this file (and without htmx); these
// handlers only cover what an in-page swap would otherwise get wrong.
(function () {
  var pending = null;
  var openedFrom = null;

  // A refused change (403, 404, 422) or a lapsed login: show the page the server sent, as a plain form post would,
  // rather than leaving the board silently unchanged.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var landed = xhr.responseURL ? new URL(xhr.responseURL) : null;
    if (landed && landed.pathname === "/login") {
      event.detail.shouldSwap = false;
      window.location.assign(landed.href);
    } else if (xhr.status >= 400) {
      event.detail.shouldSwap = false;
      document.open();
      document.write(xhr.responseText);
      document.close();
    }
  });

  // The evidence drawer takes the keyboard focus when it opens and gives it back to the card's link when it closes.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.matches("a.ev")) {
      pending = "open";
      openedFrom = elt.getAttribute("aria-label");
    } else if (elt.matches("aside#drawer a.close")) {
      pending = "close";
    } else {
      pending = null;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var drawer = document.querySelector("aside#drawer");
    if (pending === "open" && drawer) {
      drawer.querySelector("h2").focus();
    } else if (pending === "close" && openedFrom) {
      var link = document.querySelector('a.ev[aria-label="' + openedFrom + '"]');
      if (link) link.focus();
    }
    pending = null;
  });
  document.addEventListener("keydown", function (event) {
    var close = document.querySelector("aside#drawer a.close");
    if (event.key === "Escape" && close) close.click();
  });
})();
