// Keeps status badges current without a reload: polls the photo API for every photo on the
// page that the pipeline may still move, backing off while nothing changes.
(function () {
  "use strict";
  const IN_FLIGHT = new Set(["uploaded", "awaiting_score"]);
  const labelsNode = document.getElementById("photo-labels");
  const labels = labelsNode ? JSON.parse(labelsNode.textContent) : { status: {}, reason: {} };
  const watched = new Map();
  let delay = 1000;
  let timer = null;

  function render(el, photo) {
    el.dataset.status = photo.status;
    const badge = el.querySelector("[data-role=status]");
    if (badge) {
      badge.textContent = labels.status[photo.status] || photo.status;
      badge.className = "badge " + photo.status;
    }
    const reason = el.querySelector("[data-role=reason]");
    if (reason) {
      const rejected = photo.status === "rejected" || photo.status === "failed";
      reason.textContent = rejected
        ? photo.reject_detail || labels.reason[photo.reject_reason] || ""
        : "";
    }
    // The validator's flags and notes, in the API's plain words.
    const flags = el.querySelector("[data-role=flags]");
    if (flags) {
      const item = flags.tagName === "UL" ? "li" : "span";
      flags.replaceChildren(
        ...(photo.warnings || []).map((text) => {
          const node = document.createElement(item);
          node.className = "flag";
          node.textContent = text;
          return node;
        }),
      );
    }
    el.dispatchEvent(new CustomEvent("photo:status", { detail: photo, bubbles: true }));
  }

  async function poll() {
    timer = null;
    let changed = false;
    await Promise.all(
      [...watched].map(async ([uid, el]) => {
        try {
          const response = await fetch("/api/photos/" + uid + "/", {
            credentials: "same-origin",
            headers: { Accept: "application/json" },
          });
          if (!response.ok) return;
          const photo = await response.json();
          if (photo.status !== el.dataset.status) {
            changed = true;
            render(el, photo);
          }
          if (!IN_FLIGHT.has(photo.status)) watched.delete(uid);
        } catch (error) {
          // A dropped poll is retried on the next tick.
        }
      }),
    );
    delay = changed ? 1000 : Math.min(delay * 1.5, 15000);
    schedule();
  }

  function schedule() {
    if (!timer && watched.size) timer = setTimeout(poll, delay);
  }

  function watch(el) {
    if (!IN_FLIGHT.has(el.dataset.status)) return;
    watched.set(el.dataset.photo, el);
    delay = 1000;
    schedule();
  }

  window.ParjanyaStatus = { watch: watch };
  document.querySelectorAll("[data-photo][data-status]").forEach(watch);
})();
