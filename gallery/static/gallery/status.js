// Keeps status badges, thumbnails and the count per status current without a reload, and brings
// photos uploaded elsewhere after the page was drawn. One request per tick reads the status feed
// (every photo of this photographer changed since the last read, new ones included), however
// many photos the page follows; ticks slow down while nothing changes.
(function () {
  "use strict";
  const FAST_MS = 1000;
  const SLOW_MS = 5000;
  const configNode = document.getElementById("status-feed");
  const config = configNode ? JSON.parse(configNode.textContent) : null;
  const IN_FLIGHT = new Set(config ? config.in_flight : []);
  const watched = new Map();
  let cursor = config ? config.since : null;
  // "insert": new photos' tiles go at the top (newest first); "announce": a bar counts them.
  const NEW_PHOTOS = config ? config.new_photos : "";
  const DRAWN_AT = config ? Date.parse(config.since) : 0;
  const grid = document.getElementById("photo-grid");
  const tileTemplate = document.getElementById("tile-template");
  const announced = new Set();
  // A detail page waiting for the curator's answer: redrawn in place when its photo changes.
  let redraw = config ? config.redraw : false;
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
      reason.textContent = rejected ? photo.reject_words : "";
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

  function isNew(photo) {
    return (
      NEW_PHOTOS &&
      grid &&
      Date.parse(photo.created_at) > DRAWN_AT &&
      !grid.querySelector('[data-photo="' + photo.id + '"]')
    );
  }

  function insertTile(photo) {
    const el = tileTemplate.content.firstElementChild.cloneNode(true);
    el.dataset.photo = photo.id;
    el.dataset.created = photo.created_at;
    el.querySelector("a.tile").href = photo.url;
    el.querySelector(".name").textContent = photo.original_filename;
    const slot = el.querySelector("[data-role=thumb]");
    slot.dataset.alt = photo.original_filename;
    slot.setAttribute("aria-label", "No thumbnail for " + photo.original_filename);
    const empty = grid.querySelector("li.empty");
    if (empty) empty.remove();
    // New tiles stay above the page's own, newest first, whatever order the feed brings them.
    const when = Date.parse(photo.created_at);
    let before = grid.firstElementChild;
    while (before && before.dataset.created && Date.parse(before.dataset.created) > when) {
      before = before.nextElementSibling;
    }
    grid.insertBefore(el, before);
    return el;
  }

  function announce(photo) {
    announced.add(photo.id);
    const bar = document.getElementById("new-photos");
    if (!bar) return;
    const n = announced.size;
    bar.querySelector("[data-role=words]").textContent =
      n === 1 ? "1 new photo uploaded." : n + " new photos uploaded.";
    bar.hidden = false;
  }

  function countChip(list, status) {
    const li = document.createElement("li");
    li.dataset.count = status;
    const link = document.createElement("a");
    link.className = "count";
    link.href = "?status=" + status + (list.dataset.sort ? "&sort=" + list.dataset.sort : "");
    const badge = document.createElement("span");
    badge.className = "badge " + status;
    badge.textContent = config.status[status] || status;
    const n = document.createElement("span");
    n.className = "n";
    link.append(badge, " ", n);
    li.append(link);
    return li;
  }

  // The chips follow the model's order of statuses; one with no photos left goes (unless the
  // gallery is filtered to it).
  function drawCounts(counts) {
    const list = document.getElementById("status-counts");
    if (!list) return;
    let total = 0;
    let previous = list.querySelector('li[data-count=""]');
    for (const status of Object.keys(config.status)) {
      const n = counts[status] || 0;
      total += n;
      let li = list.querySelector('li[data-count="' + status + '"]');
      if (!n && !(li && li.querySelector(".current"))) {
        if (li) li.remove();
        continue;
      }
      if (!li) {
        li = countChip(list, status);
        previous.after(li);
      }
      li.querySelector(".n").textContent = n;
      previous = li;
    }
    list.querySelector('li[data-count=""] .n').textContent = total;
    list.hidden = total === 0;
  }

  async function redrawDetail() {
    const response = await fetch(location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const aside = fresh.querySelector(".detail aside");
    if (aside) document.querySelector(".detail aside").replaceWith(aside);
    const feedConfig = fresh.getElementById("status-feed");
    redraw = feedConfig ? JSON.parse(feedConfig.textContent).redraw : false;
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
      if (redraw && Date.parse(photo.updated_at) > DRAWN_AT &&
          document.querySelector('.detail[data-photo="' + photo.id + '"]')) {
        await redrawDetail();
        changed = true;
        continue;
      }
      let el = watched.get(photo.id);
      if (!el && isNew(photo)) {
        if (NEW_PHOTOS === "insert") {
          el = insertTile(photo);
          watched.set(photo.id, el);
        } else if (!announced.has(photo.id)) {
          announce(photo);
          changed = true;
        }
      }
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
    if (answer.counts) drawCounts(answer.counts);
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
    // A gallery keeps reading (slowly when idle) for uploads made elsewhere.
    if (!timer && (watched.size || NEW_PHOTOS || redraw)) {
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
  schedule();
})();
