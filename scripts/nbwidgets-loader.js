// The one script a page with widgets loads up front (scripts/offline_widgets.py).
// The widget manager (RequireJS, setup.js, embed-amd.js: about 3.6 MB) is
// fetched only when a widget output comes near the screen, so a reader who
// never scrolls to a widget never downloads it, and the page's text shows
// without waiting for it. embed-amd.js renders the widgets at once when the
// page has already loaded.
(function () {
  "use strict";
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  var VIEWS = 'script[type="application/vnd.jupyter.widget-view+json"]';
  var started = false;

  function load(name, attributes) {
    return new Promise(function (done, fail) {
      var script = document.createElement("script");
      Object.keys(attributes || {}).forEach(function (key) {
        script.setAttribute(key, attributes[key]);
      });
      script.onload = done;
      script.onerror = fail;
      script.src = here + name;
      document.head.appendChild(script);
    });
  }

  function start() {
    if (started) {
      return;
    }
    started = true;
    load("require.js")
      .then(function () { return load("setup.js"); })
      .then(function () {
        // The CDN attribute is only consulted for third-party widget modules;
        // the book's widgets are built into embed-amd.js.
        return load("embed-amd.js",
                    {"data-jupyter-widgets-cdn": "https://cdn.jsdelivr.net/npm/"});
      });
  }

  function watch() {
    var views = document.querySelectorAll(VIEWS);
    if (views.length === 0) {
      return;
    }
    if (!("IntersectionObserver" in window)) {
      start();
      return;
    }
    // A screen's height ahead, so the view is drawn before it is reached.
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) {
        observer.disconnect();
        start();
      }
    }, {rootMargin: "100% 0px"});
    views.forEach(function (view) { observer.observe(view.parentElement); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else {
    watch();
  }
})();
