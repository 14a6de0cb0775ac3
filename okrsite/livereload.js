// okrsite serve: live reload and the build-error overlay.
// The preview server adds this script to the HTML it sends; it is never part
// of a built site. data-build is the server's id (a new server means reload),
// data-gen the build the page was served from, data-path the page's file.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.EventSource || !window.JSON) return;
  var build = me.getAttribute("data-build");
  var gen = me.getAttribute("data-gen");
  var path = me.getAttribute("data-path");
  var url = "/__okrsite__/events?gen=" + encodeURIComponent(gen) +
    "&path=" + encodeURIComponent(path);
  var host = null;
  var source = null;
  var reloading = false;

  var css = [
    ":host { all: initial; }",
    ".box { position: fixed; inset: auto 1rem 1rem 1rem; z-index: 2147483647;",
    "  max-height: 60vh; overflow: auto; box-sizing: border-box; padding: 1rem 1.25rem;",
    "  font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif;",
    "  color: #1f1f1f; background: #fff8f7; border: 2px solid #b3261e; border-radius: 8px;",
    "  box-shadow: 0 8px 32px rgba(0,0,0,.35); }",
    "h2 { margin: 0 0 .5rem; font-size: 1.1rem; color: #8c1d18; }",
    "pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere;",
    "  font: 14px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }",
    "p { margin: .75rem 0 0; }",
    "button { float: right; margin: -.25rem -.25rem .5rem 1rem; font: inherit; cursor: pointer;",
    "  color: inherit; background: transparent; border: 1px solid currentColor;",
    "  border-radius: 4px; padding: .1rem .6rem; }",
    "button:focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }",
    "@media (prefers-color-scheme: dark) {",
    "  .box { color: #f2f2f2; background: #2b1614; border-color: #f2b8b5; }",
    "  h2 { color: #f2b8b5; } }"
  ].join("\n");

  function show(message) {
    if (!host) {
      host = document.createElement("okrsite-overlay");
      host.id = "okrsite-overlay";
      var root = host.attachShadow({ mode: "open" });
      var style = document.createElement("style");
      style.textContent = css;
      var box = document.createElement("div");
      box.className = "box";
      box.setAttribute("role", "alert");
      box.setAttribute("aria-labelledby", "okrsite-overlay-title");
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "Hide";
      close.addEventListener("click", function () { host.hidden = true; });
      var title = document.createElement("h2");
      title.id = "okrsite-overlay-title";
      var pre = document.createElement("pre");
      pre.className = "lines";
      var hint = document.createElement("p");
      hint.textContent = "Fix the file and save: this page updates by itself. " +
        "Until then it shows the last site that built.";
      box.append(close, title, pre, hint);
      root.append(style, box);
      (document.body || document.documentElement).appendChild(host);
    }
    var shadow = host.shadowRoot;
    shadow.querySelector("h2").textContent = "okrsite: the site does not build (" +
      message.summary + ")";
    // textContent, never innerHTML: messages quote what authors wrote.
    shadow.querySelector("pre").textContent = (message.lines || []).join("\n");
    host.hidden = false;
  }

  function hide() {
    if (host) {
      host.remove();
      host = null;
    }
  }

  function reload() {
    if (reloading) return;
    reloading = true;
    if (source) source.close();
    window.location.reload();
  }

  function connect() {
    source = new EventSource(url);
    source.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.build !== build || message.reload) {
        reload();
      } else if (message.ok) {
        hide();
      } else {
        show(message);
      }
    };
    source.onerror = function () {
      // EventSource retries by itself after network errors; if it gave up
      // (an error response while the server restarts), start over.
      if (source.readyState === EventSource.CLOSED && !reloading) {
        window.setTimeout(connect, 1000);
      }
    };
  }

  connect();
})();
