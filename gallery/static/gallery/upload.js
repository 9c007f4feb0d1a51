// Drag-and-drop upload: one request per file so each has its own progress bar, its own error,
// and its own Cancel and Retry; a few in parallel. A tally counts what the server accepted,
// refused (the file itself was wrong) and what failed on the way (worth a retry), and one bar
// shows the bytes sent of all files. Then each photo's status is followed as the pipeline
// moves it (status.js).
(function () {
  "use strict";
  const root = document.getElementById("uploader");
  const dropzone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  const list = document.getElementById("upload-list");
  const summary = document.getElementById("upload-summary");
  const overall = document.getElementById("upload-progress");
  const overallText = document.getElementById("upload-bytes");
  const PARALLEL = 3;
  const queue = [];
  const jobs = [];
  let active = 0;

  const PLAIN_ERRORS = {
    too_large: "This file is larger than the upload limit, so it was not stored.",
    empty: "This file is empty (0 bytes).",
    no_files: "The browser sent no file. Please try again.",
  };
  // The server's verdict on the file itself: sending it again would change nothing.
  const REFUSALS = new Set(["unsupported", "empty", "too_large", "bad_name", "too_many_files"]);
  const STATE_WORDS = {
    waiting: "Waiting",
    sending: "Sending",
    accepted: "Uploaded",
    refused: "Refused",
    failed: "Not uploaded",
    cancelled: "Cancelled",
  };

  function csrfToken() {
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
    return cookie ? decodeURIComponent(cookie.split("=")[1]) : root.dataset.csrf;
  }

  function button(text, onClick) {
    const node = document.createElement("button");
    node.type = "button";
    node.textContent = text;
    node.addEventListener("click", onClick);
    return node;
  }

  function add(files) {
    for (const file of files) {
      const item = document.createElement("li");
      item.dataset.file = file.name;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Upload progress for " + file.name);
      const state = document.createElement("span");
      state.className = "badge";
      state.dataset.role = "status";
      const reason = document.createElement("span");
      reason.className = "error";
      reason.dataset.role = "reason";
      // Filled by status.js with the thumbnail once ingest has rendered it.
      const thumb = document.createElement("span");
      thumb.className = "mini";
      thumb.dataset.role = "thumb";
      thumb.dataset.imgClass = "mini";
      thumb.dataset.alt = file.name;
      thumb.dataset.quiet = "true";
      const actions = document.createElement("span");
      actions.className = "actions";
      item.append(thumb, name, bar, state, actions, reason);
      list.append(item);
      const job = { file, item, bar, state, reason, actions, loaded: 0, xhr: null };
      job.cancel = button("Cancel", () => cancel(job));
      job.cancel.setAttribute("aria-label", "Cancel " + file.name);
      job.retry = button("Retry", () => retry(job));
      job.retry.setAttribute("aria-label", "Retry " + file.name);
      jobs.push(job);
      setState(job, "waiting");
      queue.push(job);
    }
    updateSummary();
    pump();
  }

  function setState(job, state) {
    job.phase = state;
    job.item.dataset.state = state;
    job.state.textContent = STATE_WORDS[state];
    job.state.className = "badge " + { accepted: "uploaded", refused: "failed", failed: "failed", cancelled: "failed" }[state];
    if (state === "waiting" || state === "sending") {
      job.actions.replaceChildren(job.cancel);
    } else if (state === "failed" || state === "cancelled") {
      job.actions.replaceChildren(job.retry);
    } else {
      job.actions.replaceChildren();
    }
    updateSummary();
  }

  function progress(job, loaded) {
    job.loaded = loaded;
    job.bar.value = job.file.size ? Math.round((loaded / job.file.size) * 100) : 100;
    updateSummary();
  }

  function megabytes(bytes) {
    return (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0) + " MB";
  }

  function updateSummary() {
    const count = (phase) => jobs.filter((job) => job.phase === phase).length;
    const parts = [count("accepted") + " of " + jobs.length + " file" + (jobs.length === 1 ? "" : "s") + " accepted"];
    const refused = count("refused");
    const failed = count("failed");
    const cancelled = count("cancelled");
    const pending = count("waiting") + count("sending");
    if (refused) parts.push(refused + " refused");
    if (failed) parts.push(failed + " failed");
    if (cancelled) parts.push(cancelled + " cancelled");
    if (pending) parts.push(pending + " to go");
    summary.textContent = parts.join(", ") + ".";
    // Overall progress counts the files still meant to go: refused and cancelled ones drop out.
    const counted = jobs.filter((job) => job.phase !== "refused" && job.phase !== "cancelled");
    const total = counted.reduce((sum, job) => sum + job.file.size, 0);
    const sent = counted.reduce((sum, job) => sum + Math.min(job.loaded, job.file.size), 0);
    overall.hidden = jobs.length === 0;
    overall.max = total || 1;
    overall.value = sent;
    overallText.textContent = jobs.length ? megabytes(sent) + " of " + megabytes(total) + " sent" : "";
  }

  function pump() {
    while (active < PARALLEL && queue.length) {
      const job = queue.shift();
      active += 1;
      setState(job, "sending");
      transportFor(job.file)(job).finally(() => {
        active -= 1;
        job.xhr = null;
        updateSummary();
        pump();
      });
    }
  }

  function cancel(job) {
    const waiting = queue.indexOf(job);
    if (waiting >= 0) queue.splice(waiting, 1);
    job.cancelled = true;
    if (job.xhr) job.xhr.abort();
    job.reason.textContent = "";
    job.reason.removeAttribute("role");
    setState(job, "cancelled");
  }

  function retry(job) {
    job.cancelled = false;
    job.reason.textContent = "";
    job.reason.removeAttribute("role");
    job.bar.style.visibility = "";
    progress(job, 0);
    setState(job, "waiting");
    queue.push(job);
    pump();
  }

  // Files bigger than one part go in a multipart upload that survives a dropped connection
  // (to the bucket in S3 mode, to this server in local mode); everything else is sent whole.
  function transportFor(file) {
    const direct = root.dataset.directUrl && file.size > Number(root.dataset.directMin);
    return direct ? sendDirect : sendWhole;
  }

  function fail(job, message, kind) {
    if (job.cancelled) return;
    job.bar.style.visibility = "hidden";
    job.reason.textContent = message;
    job.reason.setAttribute("role", "alert");
    setState(job, kind || "failed");
  }

  function sendWhole(job) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      job.xhr = xhr;
      const form = new FormData();
      form.append("files", job.file, job.file.name);
      xhr.open("POST", root.dataset.api);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) progress(job, (event.loaded / event.total) * job.file.size);
      });
      xhr.addEventListener("load", () => {
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch (error) {
          body = null;
        }
        if (body && body.created && body.created.length) {
          accepted(job, body.created[0]);
        } else if (body && body.errors && body.errors.length) {
          const error = body.errors[0];
          fail(
            job,
            error.detail || PLAIN_ERRORS[error.error] || "The server refused this file.",
            REFUSALS.has(error.error) ? "refused" : "failed",
          );
        } else if (xhr.status === 413) {
          fail(job, PLAIN_ERRORS.too_large, "refused");
        } else if (xhr.status === 401 || xhr.status === 403) {
          fail(job, "Your session has expired. Log in again, then retry this file.");
        } else {
          fail(job, "The server could not store this file (error " + xhr.status + "). Try again later.");
        }
        resolve();
      });
      xhr.addEventListener("error", () => {
        fail(job, "The connection dropped while sending this file. Check the network and try again.");
        resolve();
      });
      xhr.addEventListener("abort", () => resolve());
      xhr.send(form);
    });
  }

  function accepted(job, photo) {
    progress(job, job.file.size);
    job.item.dataset.photo = photo.id;
    job.item.dataset.status = photo.status;
    setState(job, "accepted");
    const link = document.createElement("a");
    link.href = root.dataset.detail + photo.id + "/";
    link.textContent = job.file.name;
    job.item.querySelector(".name").replaceChildren(link);
    job.reason.className = "detail-text";
    window.ParjanyaStatus.watch(job.item);
  }

  async function api(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrfToken(),
        Accept: "application/json",
        "Content-Type": "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = response.status === 204 ? {} : await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body: answer };
  }

  // Each file remembers its upload token, so choosing the same file again after a failure
  // sends only the parts the bucket does not have yet.
  function resumeKey(file) {
    return "parjanya-upload:" + [file.name, file.size, file.lastModified].join(":");
  }

  function putPart(job, part, blob, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      job.xhr = xhr;
      xhr.open("PUT", part.url);
      // The browser sets Content-Length itself and refuses to be told.
      Object.entries(part.headers || {}).forEach(([name, value]) => {
        if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
      });
      // Local mode: the part URL is this server's, which wants the session's CSRF token.
      if (part.url.startsWith("/")) xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
      xhr.addEventListener("load", () =>
        xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error("status " + xhr.status)),
      );
      xhr.addEventListener("error", () => reject(new Error("network")));
      xhr.addEventListener("abort", () => reject(new Error("cancelled")));
      xhr.send(blob);
    });
  }

  async function sendDirect(job) {
    const file = job.file;
    const base = root.dataset.directUrl;
    const key = resumeKey(file);
    let state = null;
    let missing = null;
    const saved = localStorage.getItem(key);
    if (saved) {
      const known = await api("GET", base + saved + "/");
      if (known.ok && known.body.photo) {
        // Completed before, but the answer never arrived: nothing to send again.
        localStorage.removeItem(key);
        return accepted(job, known.body.photo);
      }
      if (known.ok) {
        state = known.body;
        missing = known.body.missing;
      } else {
        localStorage.removeItem(key);
      }
    }
    if (!state) {
      const created = await api("POST", base, { filename: file.name, size: file.size });
      if (created.status === 501) return sendWhole(job);
      if (!created.ok) {
        const refused = REFUSALS.has(created.body.error) || created.status === 413;
        const message = created.body.detail || PLAIN_ERRORS[created.body.error];
        return fail(job, message || "The server refused this file.", refused ? "refused" : "failed");
      }
      state = created.body;
      missing = Array.from({ length: state.part_count }, (_, i) => i + 1);
      localStorage.setItem(key, state.upload);
    }
    const token = state.upload;
    const partBytes = (n) => Math.min(state.part_size, file.size - (n - 1) * state.part_size);
    let sent = file.size - missing.reduce((total, n) => total + partBytes(n), 0);
    if (missing.length < state.part_count) job.state.textContent = "Resuming";
    progress(job, sent);
    try {
      if (missing.length) {
        const urls = await api("POST", base + token + "/parts/", {
          parts: missing.map((number) => ({ number: number })),
        });
        if (!urls.ok) throw new Error(urls.body.detail || "status " + urls.status);
        for (const part of urls.body.parts) {
          const start = (part.number - 1) * state.part_size;
          if (job.cancelled) throw new Error("cancelled");
          await putPart(job, part, file.slice(start, start + part.size), (loaded) => {
            progress(job, sent + loaded);
          });
          sent += part.size;
        }
      }
      if (job.cancelled) throw new Error("cancelled");
      let done = await api("POST", base + token + "/complete/");
      // Another request of ours is completing this upload (a retry raced the first): asked
      // again once that one has finished, the server answers with the same photo.
      const completing = () => done.status === 409 && done.body.error === "completing";
      for (let wait = 1; completing() && wait <= 5; wait++) {
        await new Promise((resume) => setTimeout(resume, 1000 * wait));
        done = await api("POST", base + token + "/complete/");
      }
      if (!done.ok) throw new Error(done.body.detail || "status " + done.status);
      localStorage.removeItem(key);
      accepted(job, done.body);
    } catch (error) {
      const why =
        error.message === "network"
          ? "The connection dropped part way through."
          : "The upload stopped part way (" + error.message + ").";
      fail(job, why + " What was sent is kept: press Retry, or choose the same file again, to send the rest.");
    }
  }

  input.addEventListener("change", () => {
    add(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach((type) =>
    dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      dropzone.classList.add("dragover");
    }),
  );
  ["dragleave", "drop"].forEach((type) =>
    dropzone.addEventListener(type, () => dropzone.classList.remove("dragover")),
  );
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    add(event.dataTransfer.files);
  });
})();
