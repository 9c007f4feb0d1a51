// A one-time secret (API token, invitation link) is selected whole as soon as its box gets the
// focus, ready to copy. A static file, not an onfocus= attribute: the CSP runs no inline code.
"use strict";
document.querySelectorAll("[data-select-on-focus]").forEach((input) => {
  input.addEventListener("focus", () => input.select());
});
