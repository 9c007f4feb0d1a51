// Keeps status badges and thumbnails current without a reload. One request per tick reads the
// status feed (every photo of this photographer changed since the last read), however many
// photos the page follows; ticks slow down while nothing changes.
(function () {
  "use strict";
  const FAST_MS = 1000;
  const SLOW_MS = 5000;
  const configNode = document.getElementById("status-feed");
  const config = configNode ? JSON.parse(configNode.textContent) : null;
  const IN_FLIGHT = new Set(config ? config.in_flight : []);
  const watched = new Map();
  let cursor = config ? config.since : null;
  let delay = FAST_MS;
  let timer = null;
  let inFlight = Promise.resolve();

  function replaceThumb(el, photo) {
    const slot = el.querySelector("[data-role=thumb]");
    if (!slot) return;
    const wanted = slot.dataset.kind === "preview" ? photo.preview : photo.thumbnail;
    if (!wanted) {
      if (slot.tagName !== "IMG" && !slot.dataset.quiet) slot.textContent = photo.placeholder;
      return;
    }
    if (slot.tagName === "IMG") return;
    const img = document.createElement("img");
    img.className = slot.dataset.imgClass || "thumb";
    img.dataset.role = "thumb";
    img.decoding = "async";
    if (slot.dataset.kind !== "preview") img.loading = "lazy";
    img.alt = slot.dataset.alt || "";
    img.src = wanted;
    slot.replaceWith(img);
  }

  function render(el, photo) {
    el.dataset.status = photo.status;
    const badge = el.querySelector("[data-role=status]");
    if (badge) {
      badge.textContent = config.status[photo.status] || photo.status;
      badge.className = "badge " + photo.status;
    }
    const reason = el.querySelector("[data-role=reason]");
    if (reason) {
      const rejected = photo.status === "rejected" || photo.status === "failed";
      reason.textContent = rejected
        ? photo.reject_detail || config.reason[photo.reject_reason] || ""
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
    replaceThumb(el, photo);
    el.dispatchEvent(new CustomEvent("photo:status", { detail: photo, bubbles: true }));
  }

  async function read() {
    const url = config.feed + (cursor ? "?since=" + encodeURIComponent(cursor) : "");
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return { changed: false, more: false };
    const answer = await response.json();
    cursor = answer.cursor;
    let changed = false;
    for (const photo of answer.photos) {
      const el = watched.get(photo.id);
      if (!el) continue;
      const seen = el.dataset.seen;
      // A change can come twice (the feed looks back a little): redraw only what is new.
      if (seen !== photo.updated_at) {
        el.dataset.seen = photo.updated_at;
        changed = true;
        render(el, photo);
      }
      if (!IN_FLIGHT.has(photo.status)) watched.delete(photo.id);
    }
    return { changed: changed, more: answer.more };
  }

  async function poll() {
    timer = null;
    let changed = false;
    try {
      let step = await read();
      changed = step.changed;
      while (step.more) {
        step = await read();
        changed = changed || step.changed;
      }
    } catch (error) {
      // A dropped read is retried on the next tick; the cursor has not moved.
    }
    delay = changed ? FAST_MS : Math.min(delay * 1.5, SLOW_MS);
    schedule();
  }

  function schedule() {
    if (!timer && watched.size) {
      timer = setTimeout(() => {
        inFlight = poll();
      }, delay);
    }
  }

  function watch(el) {
    if (!config || !IN_FLIGHT.has(el.dataset.status)) return;
    watched.set(el.dataset.photo, el);
    delay = FAST_MS;
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    schedule();
  }

  window.ParjanyaStatus = {
    watch: watch,
    // Resolves once the read under way (if any) has been applied: tests step a fake clock.
    settled: () => inFlight,
  };
  document.querySelectorAll("[data-photo][data-status]").forEach(watch);
})();
