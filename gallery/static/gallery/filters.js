// The gallery's filters apply as soon as one changes; the Filter button stays for browsers
// without scripts. Empty fields are left out of the address.
(function () {
  "use strict";
  const form = document.getElementById("gallery-filters");
  if (!form) return;
  const apply = form.querySelector("[data-role=apply]");
  if (apply) apply.hidden = true;
  form.addEventListener("change", () => form.requestSubmit());
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
