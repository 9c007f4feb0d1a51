// The culling queue: one photo large, decided from the keyboard. The next photo is preloaded so
// moving on never waits for the network.
(function () {
  "use strict";
  const root = document.getElementById("review");
  const queue = JSON.parse(document.getElementById("review-queue").textContent);
  const $ = (id) => document.getElementById(id);
  const image = $("review-image");
  const reasons = $("review-reasons");
  const note = $("review-note");
  const REASONS = Array.from(reasons.querySelectorAll("[data-reason]")).map((b) => b.dataset.reason);
  const preloads = new Map();
  let index = 0;

  function url(template, uid) {
    return template.replace(root.dataset.placeholder, uid);
  }

  function preload(item) {
    if (!item || !item.preview || preloads.has(item.id)) return;
    const link = document.createElement("link");
    link.rel = "preload";
    link.as = "image";
    link.href = item.preview;
    document.head.append(link);
    const img = new Image();
    img.src = item.preview;
    preloads.set(item.id, img);
  }

  function show() {
    if (!queue.length) {
      root.hidden = true;
      $("review-empty").hidden = false;
      root.parentElement.append($("review-empty"));
      return;
    }
    const item = queue[index];
    image.src = item.preview;
    image.alt = item.preview ? item.name : "No preview for " + item.name;
    image.dataset.photo = item.id;
    $("review-position").textContent = "Photo " + (index + 1) + " of " + queue.length;
    $("review-name").textContent = item.name + " — " + item.owner;
    $("review-status").textContent = item.statusLabel;
    $("review-status").className = "pj-badge pj-" + item.status;
    $("review-flags").replaceChildren(
      ...[...(item.flags || []), ...(item.notes || [])].map((label) => {
        const badge = document.createElement("span");
        badge.className = "pj-badge pj-flag";
        badge.textContent = label;
        return badge;
      }),
    );
    $("review-decision").textContent = item.decision ? "decided: " + item.decision : "";
    $("review-score").textContent = item.score == null ? "—" : item.score.toFixed(2);
    $("review-sharpness").textContent = item.sharpness == null ? "—" : item.sharpness.toFixed(2);
    const stars = item.rating || 0;
    $("review-stars").textContent = "★".repeat(stars) + "☆".repeat(5 - stars);
    $("review-stars").setAttribute("aria-label", stars + " of 5 stars");
    $("review-detail").href = item.detail;
    preload(queue[index + 1]);
  }

  function move(step) {
    if (!reasons.hidden) openReasons(false);
    index = Math.max(0, Math.min(queue.length - 1, index + step));
    show();
  }

  async function post(template, data) {
    const item = queue[index];
    const body = new URLSearchParams(data);
    $("review-error").hidden = true;
    try {
      const response = await fetch(url(template, item.id), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": root.dataset.csrf, Accept: "application/json" },
        body: body,
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error || "status " + response.status);
      Object.assign(item, answer);
      return true;
    } catch (error) {
      $("review-error").textContent = "Not saved: " + error.message;
      $("review-error").hidden = false;
      return false;
    }
  }

  async function decide(data) {
    const here = index;
    if (await post(root.dataset.decideUrl, data)) {
      if (index === here && index < queue.length - 1) move(1);
      else show();
    }
  }

  // X asks why, as the culling workspace does: the photographer always reads a reason.
  function openReasons(open) {
    reasons.hidden = !open;
    if (open) reasons.querySelector("[data-reason]").focus();
    else note.value = "";
  }

  function rejectWith(reason) {
    const text = note.value;
    openReasons(false);
    decide({ decision: "rejected", reason: reason, note: text });
  }

  async function rate(stars) {
    if (await post(root.dataset.rateUrl, { rating: stars ? String(stars) : "" })) show();
  }

  const actions = {
    ArrowRight: () => move(1),
    j: () => move(1),
    ArrowLeft: () => move(-1),
    k: () => move(-1),
    a: () => decide({ decision: "approved" }),
    x: () => openReasons(true),
    r: () => openReasons(true),
    Escape: () => openReasons(false),
    "?": () => ($("review-help").hidden = !$("review-help").hidden),
    0: () => rate(0),
  };
  for (let n = 1; n <= 5; n += 1) actions[String(n)] = () => rate(n);

  function reasonKey(event) {
    if (event.key === "Escape") return () => openReasons(false);
    if (event.target.closest("input")) return null;
    const choice = Number(event.key);
    return choice >= 1 && choice <= REASONS.length ? () => rejectWith(REASONS[choice - 1]) : null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!reasons.hidden) {
      // While the reasons are open, numbers choose one (not stars), and Esc cancels.
      const pick = reasonKey(event);
      if (pick) {
        event.preventDefault();
        pick();
      }
      return;
    }
    if (event.target.closest("input, select, textarea")) return;
    const action = actions[event.key] || actions[event.key.toLowerCase()];
    if (!action || !queue.length) return;
    event.preventDefault();
    action();
  });
  root.querySelectorAll("button[data-key]").forEach((button) =>
    button.addEventListener("click", () => actions[button.dataset.key]()),
  );
  reasons.querySelectorAll("button[data-reason]").forEach((button) =>
    button.addEventListener("click", () => rejectWith(button.dataset.reason)),
  );
  show();
})();
