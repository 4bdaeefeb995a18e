/* Veilleur: small progressive enhancements. Every page also works without JavaScript. */
"use strict";

// Lets the CSS hide controls that only matter without JavaScript (the "Switch" button).
document.documentElement.classList.add("js");

// A <select data-autosubmit> submits its form as soon as the choice changes.
document.addEventListener("change", function (event) {
  const element = event.target;
  if (element instanceof HTMLSelectElement && element.hasAttribute("data-autosubmit") && element.form) {
    element.form.requestSubmit();
  }
});
