// The gallery's filters apply as soon as one changes; the Filter button stays for browsers
// without scripts. Empty fields are left out of the address.
(function () {
  "use strict";
  const form = document.getElementById("gallery-filters");
  if (!form) return;
  const apply = form.querySelector("[data-role=apply]");
  if (apply) apply.hidden = true;
  // Browsers report a date typed digit by digit at every digit of its year (0002, 0020, 0201,
  // 2010): a date waits for a pause in typing, and a year before photography is not sent.
  const TYPING_PAUSE_MS = 1000;
  const FIRST_PHOTO_YEAR = 1826;
  let pending = 0;
  form.addEventListener("change", (event) => {
    window.clearTimeout(pending);
    const field = event.target;
    if (field instanceof HTMLInputElement && field.type === "date") {
      if (field.value && Number(field.value.slice(0, 4)) < FIRST_PHOTO_YEAR) return;
      pending = window.setTimeout(() => form.requestSubmit(), TYPING_PAUSE_MS);
      return;
    }
    form.requestSubmit();
  });
  // Coming back through the history shows the page as it was left: fields usable again.
  window.addEventListener("pageshow", () => {
    form.querySelectorAll(":disabled").forEach((field) => (field.disabled = false));
  });
  form.addEventListener("submit", () => {
    form.querySelectorAll("select, input").forEach((field) => {
      if (!field.value) field.disabled = true;
    });
  });
})();
