// Search results: each page once, with a snippet from its text, not from its
// header buttons or navigation (scripts/site_search.py adds this file to the
// search page only).
(() => {
  // A page whose title and text both match would be listed twice (a numbered
  // section title is not the page's title): keep each page's best result.
  // Results come sorted by ascending score, the best last.
  const search = Search._performSearch;
  Search._performSearch = (...args) => {
    const seen = new Set();
    return search(...args).reverse().filter(([docname]) => {
      if (seen.has(docname)) return false;
      seen.add(docname);
      return true;
    }).reverse();
  };

  const cutFromText = Search.htmlToText;
  const notText = [
    ".bd-header-article",   // launch, download and source buttons
    "#jb-print-docs-body",  // the title and contents list printed at the top of a PDF
    ".prev-next-area",      // "previous / next" links
    ".bd-sidebar-secondary", ".bd-footer-article", ".bd-footer-content",
    "button", ".toggle-details__summary",
  ];
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll(notText.join(", ")).forEach((el) => el.remove());
    return cutFromText(doc.documentElement.outerHTML, anchor);
  };
})();
