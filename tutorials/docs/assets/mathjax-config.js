// MathJax 2 configuration for the course site, read by MathJax.js when it loads (it comes next in
// extra_javascript). Notebook pages hold their formulas as $...$ and $$...$$ in the text;
// Markdown pages as <script type="math/tex"> (pymdownx.arithmatex).
window.MathJax = {
  tex2jax: {
    inlineMath: [["$", "$"], ["\\(", "\\)"]],
    displayMath: [["$$", "$$"], ["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  // jupyter-server-mathjax ships the STIX-Web fonts only (as Jupyter's classic notebook used them).
  // MathJax_Blank, the font it measures others against, is declared with url('about:blank'), which
  // today's browsers refuse with a console error; a local() source loads nothing and errs nothing.
  "HTML-CSS": {
    availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
    styles: { "@font-face": { "font-family": "MathJax_Blank", src: "local('MathJax_Blank')" } },
  },
  // The hidden MathML copy (AssistiveMML) would ask for the TeX web fonts, which are not shipped.
  menuSettings: { assistiveMML: false },
  showMathMenu: false,
  messageStyle: "none",
};
