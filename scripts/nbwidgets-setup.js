// Loaded on pages with widgets, after RequireJS and before the ipywidgets HTML
// manager (embed-amd.js); copied into the site by scripts/offline_widgets.py.
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
  // MathJax 3. Translate that one call. Widgets render on window "load", and
  // this listener, added first, runs before them.
  window.addEventListener("load", function () {
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
  });
})();
