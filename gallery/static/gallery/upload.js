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
      item.append(name, bar, state, reason);
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

  // Large files in S3 mode (#5) take presigned multipart uploads from /api/uploads/; that
  // transport plugs in here, chosen by file size. Everything else is sent whole to the API.
  function transportFor(file) {
    return sendWhole;
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
          job.bar.value = 100;
          const photo = body.created[0];
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
