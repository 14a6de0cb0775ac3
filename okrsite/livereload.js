// okrsite serve: live reload and the build-error overlay.
// The preview server adds this script to the HTML it sends; it is never part
// of a built site. data-build is the server's id (a new server means reload),
// data-gen the build the page was served from, data-path the page's file.
// After a rebuild that rewrote only this page's HTML the new <body> is
// swapped in (event "okrsite:updated" on document); after anything wider
// (assets, a full rebuild, a new server) the page reloads.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.EventSource || !window.JSON) return;
  var SELF = "/__okrsite__/livereload.js";
  var build = me.getAttribute("data-build");
  var gen = me.getAttribute("data-gen");
  var path = me.getAttribute("data-path");
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

  // Everything in <head> but the title: stylesheets, metadata, scripts.
  function headKey(doc) {
    var parts = [];
    var nodes = doc.head ? doc.head.children : [];
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].tagName !== "TITLE") parts.push(nodes[i].outerHTML);
    }
    return parts.join("\n");
  }

  // Does this page load one of these output files (stylesheet, script, image)?
  function usesAny(paths) {
    if (!paths || !paths.length) return false;
    var wanted = {};
    for (var i = 0; i < paths.length; i++) wanted["/" + paths[i]] = true;
    var nodes = document.querySelectorAll("link[rel~=stylesheet], link[rel~=icon], " +
      "link[rel=preload], link[rel=modulepreload], script[src], img[src], source[src], " +
      "video[src], audio[src], embed[src], object[data], iframe[src], image, use");
    for (var j = 0; j < nodes.length; j++) {
      var n = nodes[j];
      var refs = [n.getAttribute("href"), n.getAttribute("src"), n.getAttribute("data"),
        n.getAttribute("xlink:href")];
      var set = n.getAttribute("srcset");
      if (set) set.split(",").forEach(function (part) { refs.push(part.trim().split(/\s+/)[0]); });
      for (var k = 0; k < refs.length; k++) {
        if (!refs[k]) continue;
        try {
          var u = new URL(refs[k], window.location.href);
          if (u.origin === window.location.origin && wanted[decodeURIComponent(u.pathname)]) {
            return true;
          }
        } catch (e) { /* not a URL */ }
      }
    }
    return false;
  }

  function ownScripts(doc) {
    var scripts = doc.querySelectorAll("script");
    var n = 0;
    for (var i = 0; i < scripts.length; i++) {
      if (scripts[i].getAttribute("src") !== SELF) n++;
    }
    return n;
  }

  // Only this page's HTML changed: fetch it and swap in the new <body>, which
  // is quicker than a navigation and keeps the scroll position. Anything
  // unusual (the page has scripts, its <head> changed, an error) reloads.
  function swap() {
    if (reloading) return;
    if (!window.fetch || !window.DOMParser || ownScripts(document) > 0) {
      reload();
      return;
    }
    reloading = true;
    if (source) source.close();
    source = null;
    window.fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("text/html") !== 0) throw new Error("not a page");
        return response.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var tag = doc.querySelector('script[src="' + SELF + '"]');
        if (!tag || tag.getAttribute("data-build") !== build || !doc.body ||
            ownScripts(doc) > 0 || headKey(doc) !== headKey(document)) {
          throw new Error("needs a reload");
        }
        var x = window.scrollX, y = window.scrollY;
        document.title = doc.title;
        document.body.replaceWith(document.adoptNode(doc.body));
        host = null;  // the overlay left with the old body
        window.scrollTo(x, y);
        gen = tag.getAttribute("data-gen");
        reloading = false;
        if (!document.hidden) connect();  // a stream for the new generation
        document.dispatchEvent(new CustomEvent("okrsite:updated"));
      })
      .catch(function () {
        window.location.reload();
      });
  }

  function connect() {
    var es = new EventSource("/__okrsite__/events?gen=" + encodeURIComponent(gen) +
      "&path=" + encodeURIComponent(path));
    source = es;
    es.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.build !== build || message.hard || usesAny(message.assets)) {
        reload();
      } else if (message.page) {
        swap();
      } else if (message.ok) {
        hide();
      } else {
        show(message);
      }
    };
    es.onerror = function () {
      // EventSource retries by itself after network errors; if it gave up
      // (an error response while the server restarts), start over.
      if (es.readyState === EventSource.CLOSED && source === es && !reloading) {
        source = null;
        window.setTimeout(function () {
          if (!source && !reloading && !document.hidden) connect();
        }, 1000);
      }
    };
  }

  // Browsers allow only six HTTP/1.1 connections per server, and every open
  // stream holds one: tabs in the background let theirs go and catch up (swap,
  // reload or overlay) as soon as they are shown again.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (source) source.close();
      source = null;
    } else if (!source && !reloading) {
      connect();
    }
  });

  if (!document.hidden) connect();
})();
