// The culling workspace: one frame, a 100 % loupe, two frames compared, or a stack surveyed;
// marks by keyboard or pointer, each a POST that answers the frame as it now is.
"use strict";

(function () {
  const root = document.getElementById("ws");
  const frames = JSON.parse(document.getElementById("ws-frames").textContent);
  const $ = (id) => document.getElementById(id);
  const stage = $("ws-stage");
  const strip = $("ws-strip");
  const reasons = $("ws-reasons");
  const note = $("ws-note");
  const PLACEHOLDER = "00000000-0000-0000-0000-000000000000";
  const LABEL_KEYS = { 6: "red", 7: "yellow", 8: "green", 9: "blue" };
  const REASONS = Array.from(reasons.querySelectorAll("[data-reason]")).map((b) => b.dataset.reason);
  const PRELOAD = 3;

  const state = {
    index: 0,
    mode: root.dataset.survey ? "survey" : "single",
    zoomed: false,
    // The loupe's centre, as a fraction of the frame: shared by every viewer (compare).
    fx: 0.5,
    fy: 0.5,
    selection: new Set(),
  };

  function current() {
    return frames[state.index];
  }
  function atEnd() {
    return state.index >= frames.length;
  }

  // --- talking to the server ----------------------------------------------------------------

  async function post(url, fields) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": root.dataset.csrf },
      body: new URLSearchParams(fields),
      credentials: "same-origin",
    });
    const body = await response.json().catch(() => ({ error: "The server did not answer." }));
    if (!response.ok) {
      const error = new Error(body.error || "That did not work.");
      error.frame = body.frame;
      throw error;
    }
    return body;
  }

  function replaceFrame(updated) {
    const at = frames.findIndex((f) => f.id === updated.id);
    if (at >= 0) {
      frames[at] = updated;
    }
    return at;
  }

  async function decide(fields, advance) {
    const frame = current();
    if (!frame) {
      return;
    }
    try {
      const updated = await post(root.dataset.decideUrl.replace(PLACEHOLDER, frame.id), fields);
      replaceFrame(updated);
      showError("");
      if (advance) {
        state.index = Math.min(state.index + 1, frames.length);
      }
    } catch (error) {
      showError(error.message);
    }
    render();
  }

  async function undo() {
    try {
      const body = await post(root.dataset.undoUrl, {});
      if (!body.frame) {
        showError("Nothing to undo.");
        return;
      }
      const at = replaceFrame(body.frame);
      if (at >= 0) {
        state.index = at;
      }
      showError("");
    } catch (error) {
      // A refused undo brings the frame as someone else left it.
      const at = error.frame ? replaceFrame(error.frame) : -1;
      if (at >= 0) {
        state.index = at;
      }
      showError(error.message);
    }
    render();
  }

  // Stack and shoot changes reshape the page's frames: the server says where to go, and the
  // page reloads.
  async function reshape(url, fields) {
    try {
      const body = await post(url, fields);
      window.location.assign(body.next);
    } catch (error) {
      showError(error.message);
    }
  }

  function selectedIds() {
    return Array.from(state.selection).join(",");
  }

  function changeStack(action) {
    const frame = current();
    if (!frame) {
      return;
    }
    // A stack's page changes that stack; on a shoot's page, "add" goes to the frame's stack.
    let url = root.dataset.stackChangeUrl;
    if (!url && action === "add") {
      if (!frame.stack) {
        showError("This frame is in no stack: show a frame of the stack to add the selection to.");
        return;
      }
      url = `${root.dataset.stackUrl}${frame.stack}/change/`;
    }
    if (url) {
      reshape(url, { action, ids: action === "best" ? frame.id : selectedIds() });
    }
  }

  function changeShoot(action, fields) {
    reshape(root.dataset.shootChangeUrl, { ...fields, action, ids: selectedIds() });
  }

  function showError(text) {
    const box = $("ws-error");
    box.textContent = text;
    box.hidden = !text;
  }

  // --- viewers --------------------------------------------------------------------------------

  // A frame in `container`: the preview fitted, or at 100 % built from server tiles around the
  // shared centre.
  function viewer(frame, zoomed) {
    const view = document.createElement("div");
    view.className = "ws-view";
    view.dataset.id = frame.id;
    if (!zoomed || !frame.width || !frame.height) {
      const img = document.createElement("img");
      img.className = "ws-photo";
      img.alt = frame.name;
      img.src = frame.preview;
      img.addEventListener("click", (event) => {
        const box = img.getBoundingClientRect();
        zoomAt(fractionIn(event, box, img), frame);
      });
      view.appendChild(img);
      return view;
    }
    view.classList.add("ws-zoomed");
    const canvas = document.createElement("div");
    canvas.className = "ws-canvas";
    canvas.style.width = `${frame.width}px`;
    canvas.style.height = `${frame.height}px`;
    view.appendChild(canvas);
    requestAnimationFrame(() => placeTiles(view, canvas, frame));
    dragToPan(view, frame);
    return view;
  }

  // Where in the frame a click landed, as fractions, allowing for object-fit: contain.
  function fractionIn(event, box, img) {
    const scale = Math.min(box.width / img.naturalWidth, box.height / img.naturalHeight) || 1;
    const shownW = img.naturalWidth * scale;
    const shownH = img.naturalHeight * scale;
    const x = event.clientX - box.left - (box.width - shownW) / 2;
    const y = event.clientY - box.top - (box.height - shownH) / 2;
    return { fx: clamp(x / shownW), fy: clamp(y / shownH) };
  }

  function clamp(value) {
    return Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0.5));
  }

  function placeTiles(view, canvas, frame) {
    const w = view.clientWidth;
    const h = view.clientHeight;
    const left = Math.round(Math.min(Math.max(state.fx * frame.width - w / 2, 0), Math.max(frame.width - w, 0)));
    const top = Math.round(Math.min(Math.max(state.fy * frame.height - h / 2, 0), Math.max(frame.height - h, 0)));
    canvas.style.transform = `translate(${-left}px, ${-top}px)`;
    const size = frame.tile;
    const have = new Set(Array.from(canvas.children).map((t) => t.dataset.key));
    for (let row = Math.floor(top / size); row * size < Math.min(top + h, frame.height); row++) {
      for (let col = Math.floor(left / size); col * size < Math.min(left + w, frame.width); col++) {
        const key = `${col}-${row}`;
        if (have.has(key)) {
          continue;
        }
        const tile = document.createElement("img");
        tile.className = "ws-tile";
        tile.dataset.key = key;
        tile.alt = "";
        tile.width = Math.min(size, frame.width - col * size);
        tile.height = Math.min(size, frame.height - row * size);
        tile.style.left = `${col * size}px`;
        tile.style.top = `${row * size}px`;
        tile.src = `${frame.tiles}${col}/${row}.jpg`;
        canvas.appendChild(tile);
      }
    }
  }

  function dragToPan(view, frame) {
    let last = null;
    view.addEventListener("pointerdown", (event) => {
      last = { x: event.clientX, y: event.clientY, moved: false };
      view.setPointerCapture(event.pointerId);
    });
    view.addEventListener("pointermove", (event) => {
      if (!last) {
        return;
      }
      const dx = event.clientX - last.x;
      const dy = event.clientY - last.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) {
        last.moved = true;
      }
      last.x = event.clientX;
      last.y = event.clientY;
      state.fx = clamp(state.fx - dx / frame.width);
      state.fy = clamp(state.fy - dy / frame.height);
      // Every viewer follows: compare pans both frames together.
      for (const other of stage.querySelectorAll(".ws-view.ws-zoomed")) {
        const f = frames.find((x) => x.id === other.dataset.id);
        placeTiles(other, other.firstChild, f);
      }
    });
    view.addEventListener("pointerup", () => {
      const wasClick = last && !last.moved;
      last = null;
      if (wasClick) {
        // A click without a drag leaves the loupe, as in Lightroom.
        state.zoomed = false;
        render();
      }
    });
  }

  function zoomAt(point, frame) {
    state.fx = point.fx;
    state.fy = point.fy;
    state.zoomed = true;
    if (state.mode === "survey") {
      state.index = frames.indexOf(frame);
      state.mode = "single";
    }
    render();
  }

  function compareFrames() {
    if (state.selection.size === 2) {
      return frames.filter((f) => state.selection.has(f.id));
    }
    const other = frames[state.index + 1] || frames[state.index - 1];
    return other ? [current(), other] : [current()];
  }

  function surveyFrames() {
    const frame = current();
    if (state.selection.size >= 2) {
      return frames.filter((f) => state.selection.has(f.id));
    }
    if (frame && frame.stack) {
      return frames.filter((f) => f.stack === frame.stack);
    }
    return [];
  }

  function renderStage() {
    stage.replaceChildren();
    stage.className = `ws-stage ws-${state.mode}`;
    if (state.mode === "compare") {
      for (const frame of compareFrames()) {
        const cell = document.createElement("figure");
        cell.className = "ws-cell" + (frame === current() ? " ws-current" : "");
        cell.appendChild(viewer(frame, state.zoomed));
        cell.appendChild(caption(frame));
        stage.appendChild(cell);
      }
      return;
    }
    if (state.mode === "survey") {
      const members = surveyFrames();
      if (members.length < 2) {
        stage.appendChild(message("Nothing to survey: this frame is in no stack. Select frames with S or Ctrl+click, or open a stack."));
        return;
      }
      for (const frame of members) {
        const cell = document.createElement("figure");
        cell.className = "ws-cell" + (frame === current() ? " ws-current" : "");
        const img = document.createElement("img");
        img.src = frame.preview;
        img.alt = frame.name;
        img.className = "ws-photo";
        img.addEventListener("click", () => {
          state.index = frames.indexOf(frame);
          render();
        });
        cell.appendChild(img);
        cell.appendChild(caption(frame));
        stage.appendChild(cell);
      }
      return;
    }
    stage.appendChild(viewer(current(), state.zoomed));
  }

  function message(text) {
    const p = document.createElement("p");
    p.className = "ws-message";
    p.textContent = text;
    return p;
  }

  function caption(frame) {
    const figcaption = document.createElement("figcaption");
    figcaption.textContent = `${frame.name} ${marksText(frame)}${frame.best ? " · suggested best" : ""}`;
    return figcaption;
  }

  function marksText(frame) {
    const parts = [];
    if (frame.decision === "approved") parts.push("picked");
    if (frame.decision === "rejected") parts.push("rejected");
    if (frame.stars) parts.push(`★ ${frame.stars}`);
    if (frame.label) parts.push(frame.label);
    return parts.join(" · ");
  }

  // --- the rest of the page -------------------------------------------------------------------

  function renderSide() {
    const frame = current();
    const decided = frames.filter((f) => f.decision).length;
    $("ws-progress").textContent = `${decided} of ${frames.length} decided` +
      (atEnd() ? "" : ` · frame ${state.index + 1} of ${frames.length}`);
    $("ws-frame-side").hidden = atEnd() || !frame;
    if (!frame || atEnd()) {
      return;
    }
    $("ws-name").textContent = frame.name;
    const facts = [frame.owner];
    if (frame.score !== null) facts.push(`model score ${frame.score.toFixed(2)}`);
    if (frame.sharpness !== null) facts.push(`sharpness ${frame.sharpness.toFixed(2)}`);
    if (frame.best) facts.push("suggested best of its stack");
    facts.push(...frame.flags);
    $("ws-facts").textContent = facts.join(" · ");
    const decision = frame.decision === "approved" ? "Picked"
      : frame.decision === "rejected" ? `Rejected — ${frame.rejectText}`
      : frame.setAside ? `Not decided · set aside by the pipeline: ${frame.setAside}` : "Not decided";
    $("ws-state").textContent = decision;
    $("ws-state").dataset.decision = frame.decision || "none";
    const stars = $("ws-stars");
    stars.textContent = frame.stars ? "★".repeat(frame.stars) : "no stars";
    stars.setAttribute("aria-label", `${frame.stars} of 5 stars`);
    for (const button of root.querySelectorAll(".ws-labels [data-label]")) {
      button.setAttribute("aria-pressed", String(button.dataset.label === frame.label));
    }
    $("ws-detail").href = frame.detail;
  }

  function renderStrip() {
    if (strip.childElementCount !== frames.length) {
      strip.replaceChildren(
        ...frames.map((frame, at) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "ws-thumb";
          button.dataset.at = String(at);
          const img = document.createElement("img");
          img.src = frame.thumb;
          img.alt = frame.name;
          img.loading = "lazy";
          button.appendChild(img);
          const badge = document.createElement("span");
          badge.className = "ws-badge";
          button.appendChild(badge);
          button.addEventListener("click", (event) => {
            if (event.ctrlKey || event.metaKey) {
              toggleSelection(frame);
            } else {
              state.index = at;
            }
            render();
          });
          return button;
        }),
      );
    }
    Array.from(strip.children).forEach((button, at) => {
      const frame = frames[at];
      button.classList.toggle("ws-here", at === state.index);
      button.classList.toggle("ws-selected", state.selection.has(frame.id));
      button.dataset.decision = frame.decision || "none";
      button.dataset.colour = frame.label || "";
      button.lastChild.textContent = (frame.decision === "approved" ? "✓" : frame.decision === "rejected" ? "✕" : "") +
        (frame.stars ? ` ★${frame.stars}` : "");
      button.title = `${frame.name} ${marksText(frame)}`;
    });
    const here = strip.children[state.index];
    if (here) {
      // Scroll the strip alone: scrollIntoView would also scroll the page, and on a phone the
      // workspace would open below its own bar.
      strip.scrollLeft = here.offsetLeft - (strip.clientWidth - here.offsetWidth) / 2;
    }
    // Posted, not put in a link: past a hundred or so ids a query string is longer than the
    // server takes.
    const selected = $("ws-export-selection");
    $("ws-export-selected").hidden = state.selection.size === 0;
    selected.elements.ids.value = Array.from(state.selection).join(",");
    selected.querySelector("button").textContent = `XMP for the ${state.selection.size} selected frame(s)`;
  }

  function toggleSelection(frame) {
    if (state.selection.has(frame.id)) {
      state.selection.delete(frame.id);
    } else {
      state.selection.add(frame.id);
    }
  }

  function preload() {
    for (let step = 1; step <= PRELOAD; step++) {
      const next = frames[state.index + step];
      if (next && next.preview) {
        new Image().src = next.preview;
      }
    }
  }

  function render() {
    const end = atEnd() || frames.length === 0;
    $("ws-end").hidden = !end;
    stage.hidden = end;
    if (end) {
      const decided = frames.filter((f) => f.decision).length;
      $("ws-end-text").textContent = frames.length === 0
        ? "Nothing here to cull."
        : decided === frames.length
          ? `All ${frames.length} frames decided.`
          : `${decided} of ${frames.length} decided; ${frames.length - decided} still undecided (K goes back).`;
    } else {
      renderStage();
    }
    renderSide();
    renderStrip();
    for (const [id, mode] of [["ws-mode-loupe", "loupe"], ["ws-mode-compare", "compare"], ["ws-mode-survey", "survey"]]) {
      const on = mode === "loupe" ? state.zoomed : state.mode === mode;
      $(id).setAttribute("aria-pressed", String(on));
    }
    preload();
  }

  // The help floats over the frame; whether it is open is remembered for the next visit.
  const HELP_KEY = "parjanya.cull.help";

  function showHelp(open) {
    $("ws-help").hidden = !open;
    $("ws-help-toggle").setAttribute("aria-expanded", String(open));
    try {
      window.localStorage.setItem(HELP_KEY, open ? "open" : "closed");
    } catch (error) {
      // Storage refused (private mode): the choice lasts this page only.
    }
  }

  function helpWasOpen() {
    try {
      return window.localStorage.getItem(HELP_KEY) === "open";
    } catch (error) {
      return false;
    }
  }

  // --- keys and buttons -----------------------------------------------------------------------

  function openReasons(open) {
    reasons.hidden = !open;
    if (open) {
      // On a phone the list opens below the fold's edge under Reject: bring all of it in view.
      reasons.scrollIntoView({ block: "nearest" });
    } else {
      note.value = "";
    }
  }

  function rejectWith(reason) {
    const text = note.value;
    openReasons(false);
    decide({ action: "reject", reason, note: text }, true);
  }

  function move(step) {
    state.index = Math.min(Math.max(state.index + step, 0), frames.length);
    render();
  }

  function act(key, event) {
    if (!reasons.hidden) {
      const choice = Number(key);
      if (choice >= 1 && choice <= REASONS.length) {
        rejectWith(REASONS[choice - 1]);
        return true;
      }
      if (key === "Escape") {
        openReasons(false);
        return true;
      }
    }
    if (key === "undo" || ((key === "z" || key === "Z") && event && (event.ctrlKey || event.metaKey))) {
      undo();
      return true;
    }
    switch (key) {
      case "j": case "J": case "ArrowRight": move(1); return true;
      case "k": case "K": case "ArrowLeft": move(-1); return true;
      case "p": case "P": decide({ action: "pick" }, true); return true;
      case "x": case "X": if (!atEnd()) openReasons(true); return true;
      case "u": case "U": decide({ action: "unflag" }, false); return true;
      case "z": case "Z":
        state.zoomed = !state.zoomed;
        if (state.mode === "survey") state.mode = "single";
        render();
        return true;
      case "c": case "C":
        state.mode = state.mode === "compare" ? "single" : "compare";
        render();
        return true;
      case "n": case "N":
        state.mode = state.mode === "survey" ? "single" : "survey";
        state.zoomed = false;
        render();
        return true;
      case "b": case "B": changeStack("best"); return true;
      case "s": case "S":
        if (current()) toggleSelection(current());
        render();
        return true;
      case "Escape": state.mode = "single"; state.zoomed = false; render(); return true;
      case "?": showHelp($("ws-help").hidden); return true;
      default:
        if (/^[0-5]$/.test(key)) {
          decide({ action: "rate", stars: key }, false);
          return true;
        }
        if (LABEL_KEYS[key]) {
          decide({ action: "label", label: LABEL_KEYS[key] }, false);
          return true;
        }
    }
    return false;
  }

  document.addEventListener("keydown", (event) => {
    if (event.target === note) {
      if (event.key === "Enter") {
        event.preventDefault();
        rejectWith("other");
      } else if (event.key === "Escape") {
        openReasons(false);
      }
      return;
    }
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) {
      return;
    }
    if (event.altKey || ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() !== "z")) {
      return;
    }
    if (act(event.key, event)) {
      event.preventDefault();
    }
  });

  root.addEventListener("click", (event) => {
    const link = event.target.closest(".ws-export a, .ws-export button");
    if (link) {
      // The download starts; the menu gets out of the way.
      link.closest("details").open = false;
      return;
    }
    const button = event.target.closest("button");
    if (!button) {
      return;
    }
    if (button.dataset.stack) {
      changeStack(button.dataset.stack);
    } else if (button.dataset.shootAction) {
      changeShoot(button.dataset.shootAction, {});
    } else if (button.dataset.reason) {
      rejectWith(button.dataset.reason);
    } else if (button.dataset.stars) {
      decide({ action: "rate", stars: button.dataset.stars }, false);
    } else if (button.dataset.label) {
      decide({ action: "label", label: button.dataset.label }, false);
    } else if (button.dataset.key) {
      act(button.dataset.key, null);
    }
  });

  // The shoot's forms (rename, merge, split) post through the page's script like every mark.
  root.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-shoot]");
    if (form) {
      event.preventDefault();
      changeShoot(form.dataset.shoot, Object.fromEntries(new FormData(form)));
    }
  });

  window.addEventListener("resize", () => render());
  showHelp(helpWasOpen());
  render();
})();
