// Drag-and-drop upload: one request per file so each has its own progress bar and its own
// error, a few in parallel; then each photo's status is followed as the pipeline moves it.
(function () {
  "use strict";
  const root = document.getElementById("uploader");
  const dropzone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  const list = document.getElementById("upload-list");
  const summary = document.getElementById("upload-summary");
  const PARALLEL = 3;
  const queue = [];
  let active = 0;
  let done = 0;
  let total = 0;

  const PLAIN_ERRORS = {
    too_large: "This file is larger than the upload limit, so it was not stored.",
    empty: "This file is empty (0 bytes).",
    no_files: "The browser sent no file. Please try again.",
  };

  function csrfToken() {
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
    return cookie ? decodeURIComponent(cookie.split("=")[1]) : root.dataset.csrf;
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
      state.textContent = "Waiting";
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
      item.append(thumb, name, bar, state, reason);
      list.append(item);
      queue.push({ file, item, bar, state, reason });
      total += 1;
    }
    updateSummary();
    pump();
  }

  function updateSummary() {
    summary.textContent = done + " of " + total + " file" + (total === 1 ? "" : "s") + " sent.";
  }

  function pump() {
    while (active < PARALLEL && queue.length) {
      const job = queue.shift();
      active += 1;
      transportFor(job.file)(job).finally(() => {
        active -= 1;
        done += 1;
        updateSummary();
        pump();
      });
    }
  }

  // In S3 mode, files bigger than one part go straight to the bucket in a multipart upload
  // that survives a dropped connection; everything else is sent whole to the API.
  function transportFor(file) {
    const direct = root.dataset.directUrl && file.size > Number(root.dataset.directMin);
    return direct ? sendDirect : sendWhole;
  }

  function fail(job, message) {
    job.state.textContent = "Not uploaded";
    job.state.className = "badge failed";
    job.bar.style.visibility = "hidden";
    job.reason.textContent = message;
    job.reason.setAttribute("role", "alert");
  }

  function sendWhole(job) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      const form = new FormData();
      form.append("files", job.file, job.file.name);
      xhr.open("POST", root.dataset.api);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      job.state.textContent = "Sending";
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) job.bar.value = Math.round((event.loaded / event.total) * 100);
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
          fail(job, error.detail || PLAIN_ERRORS[error.error] || "The server refused this file.");
        } else if (xhr.status === 413) {
          fail(job, PLAIN_ERRORS.too_large);
        } else if (xhr.status === 403) {
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
      xhr.send(form);
    });
  }

  function accepted(job, photo) {
    job.bar.value = 100;
    job.item.dataset.photo = photo.id;
    job.item.dataset.status = photo.status;
    job.state.textContent = "Uploaded";
    job.state.className = "badge uploaded";
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

  function putPart(part, blob, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", part.url);
      // The browser sets Content-Length itself and refuses to be told.
      Object.entries(part.headers || {}).forEach(([name, value]) => {
        if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
      });
      xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
      xhr.addEventListener("load", () =>
        xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error("status " + xhr.status)),
      );
      xhr.addEventListener("error", () => reject(new Error("network")));
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
      if (!created.ok) return fail(job, created.body.detail || PLAIN_ERRORS[created.body.error] || "The server refused this file.");
      state = created.body;
      missing = Array.from({ length: state.part_count }, (_, i) => i + 1);
      localStorage.setItem(key, state.upload);
    }
    const token = state.upload;
    const partBytes = (n) => Math.min(state.part_size, file.size - (n - 1) * state.part_size);
    let sent = file.size - missing.reduce((total, n) => total + partBytes(n), 0);
    job.state.textContent = missing.length < state.part_count ? "Resuming" : "Sending";
    job.bar.value = Math.round((sent / file.size) * 100);
    try {
      if (missing.length) {
        const urls = await api("POST", base + token + "/parts/", {
          parts: missing.map((number) => ({ number: number })),
        });
        if (!urls.ok) throw new Error(urls.body.detail || "status " + urls.status);
        for (const part of urls.body.parts) {
          const start = (part.number - 1) * state.part_size;
          await putPart(part, file.slice(start, start + part.size), (loaded) => {
            job.bar.value = Math.round(((sent + loaded) / file.size) * 100);
          });
          sent += part.size;
        }
      }
      const done = await api("POST", base + token + "/complete/");
      if (!done.ok) throw new Error(done.body.detail || "status " + done.status);
      localStorage.removeItem(key);
      accepted(job, done.body);
    } catch (error) {
      const why =
        error.message === "network"
          ? "The connection dropped part way through."
          : "The upload stopped part way (" + error.message + ").";
      fail(job, why + " What was sent is kept: choose the same file again to send the rest.");
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
