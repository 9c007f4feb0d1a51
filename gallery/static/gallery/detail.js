// The detail page: full screen for the preview, and the arrow keys step to the previous or
// next photo of the gallery as it was filtered and sorted.
(function () {
  "use strict";
  const viewer = document.getElementById("viewer");
  const button = document.getElementById("full-screen");
  if (viewer && button && document.fullscreenEnabled) {
    button.hidden = false;
    const toggle = () =>
      document.fullscreenElement ? document.exitFullscreen() : viewer.requestFullscreen();
    button.addEventListener("click", toggle);
    document.addEventListener("fullscreenchange", () => {
      button.textContent = document.fullscreenElement ? "Leave full screen" : "Full screen";
    });
  }
  const keys = { ArrowLeft: "previous-photo", ArrowRight: "next-photo" };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, select, textarea, button")) return;
    if (event.key === "f" && button && !button.hidden) {
      button.click();
      return;
    }
    const link = keys[event.key] && document.getElementById(keys[event.key]);
    if (link) link.click();
  });
})();
