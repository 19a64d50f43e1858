// Search snippets from a page's text, not from its header buttons or navigation
// (scripts/site_search.py adds this file to the search page only).
(() => {
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
