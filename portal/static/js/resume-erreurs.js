/*
  When a page comes back with errors, its error summary (#resume-erreurs, tabindex="-1")
  takes the focus, as the DSFR and GOV.UK patterns do: a screen reader reads it first and a
  keyboard user goes from it to each field in error. Loaded on every page, from the portal
  itself (the CSP allows only 'self' scripts); without JavaScript the summary is still the
  first thing in the content.
*/
(function () {
  "use strict";
  var summary = document.getElementById("resume-erreurs");
  if (summary) {
    summary.focus();
  }
})();
