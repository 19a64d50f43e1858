// Loaded on pages with widgets, after RequireJS and before the ipywidgets HTML
// manager (embed-amd.js), by nbwidgets-loader.js when a widget comes near the
// screen; copied into the site by scripts/offline_widgets.py.
(function () {
  "use strict";
  // The folder this script was served from: _static/nbwidgets/ of the site.
  var here = document.currentScript.src.replace(/[^/]*$/, "");

  // embed-amd.js defines the AMD module "@jupyter-widgets/html-manager/dist/..."
  // and looks for its fonts next to that module's URL. Without this, RequireJS
  // places it relative to the page, and the icon fonts 404.
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": here.slice(0, -1) } });
  window.__jupyter_widgets_assets_path__ = here;

  // The widget manager typesets labels with the MathJax 2 call
  // MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads
  // MathJax 3. Translate that one call, before the widgets render: they
  // render on window "load", or at once if the page has loaded already.
  function translate() {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.startup) {
      return;
    }
    mj.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        if (element) {
          mj.startup.promise.then(function () {
            return mj.typesetPromise([element]);
          });
        }
      },
    };
  }
  if (document.readyState === "complete") {
    translate();
  } else {
    window.addEventListener("load", translate);
  }
})();
