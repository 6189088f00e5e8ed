"use strict";
// facedub serve: the page. Talks to the JSON API; job progress and the live camera go
// over WebSockets. Files are named only by the ids the server gave them.

const $ = (sel) => document.querySelector(sel);
const state = { uploads: [], person: null, jobs: [] };

function setStatus(el, text, error) {
  el.textContent = text;
  el.classList.toggle("error", !!error);
}

async function api(path, options) {
  const response = await fetch(path, options);
  if (!response.ok) {
    let text = response.statusText;
    try { text = (await response.json()).error || text; } catch (e) { /* not JSON */ }
    throw new Error(text);
  }
  return response;
}

// Tabs ----------------------------------------------------------------------------
document.querySelectorAll(".tab").forEach((tab) => tab.addEventListener("click", () => {
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === tab));
  document.querySelectorAll(".panel").forEach((p) =>
    p.classList.toggle("hidden", p.id !== tab.dataset.tab));
}));

// Uploads --------------------------------------------------------------------------
async function upload(file) {
  const response = await api("/api/upload", {
    method: "POST", body: file,
    headers: { "X-Filename": encodeURIComponent(file.name) },
  });
  return response.json();
}

// Every file is tried and the lists show every one that came in: a refused file (empty,
// not a video) stopped the files after it, and hid the ones before it until a reload.
async function uploadAll(files) {
  const status = $("#upload-status");
  const uploaded = [], already = [], refused = [];
  for (const file of files) {
    setStatus(status, `uploading ${file.name} ...`);
    try {
      const done = await upload(file);
      // The same file again is its first entry, listed once (`Store.add_upload`).
      if (done.already) already.push(`${file.name} is already here as ${done.name}`);
      else uploaded.push(`${done.name} (${done.kind})`);
    } catch (error) {
      refused.push(`${file.name}: ${error.message}`);
    }
  }
  await loadUploads();
  const said = uploaded.length ? [`uploaded ${uploaded.join(", ")}`] : [];
  setStatus(status, [...said, ...already, ...refused].join("; "), refused.length > 0);
}

async function loadUploads() {
  state.uploads = await (await api("/api/uploads")).json();
  const media = ["photo", "video"];
  for (const [id, kinds] of [["#source", null], ["#target", media], ["#live-source", null]]) {
    const select = $(id);
    const kept = select.value;
    select.innerHTML = "";
    for (const u of state.uploads) {
      if (kinds && !kinds.includes(u.kind)) continue;
      const option = document.createElement("option");
      option.value = u.id;
      option.textContent = `${u.name} (${u.kind})`;
      select.appendChild(option);
    }
    if (kept) select.value = kept;
  }
  // A fresh upload list: the first photo as source, the last upload as target.
  const photo = state.uploads.find((u) => u.kind === "photo");
  if (photo && !$("#source").dataset.touched) { $("#source").value = photo.id; $("#live-source").value = photo.id; }
  const video = [...state.uploads].reverse().find((u) => u.kind === "video");
  if (video && !$("#target").dataset.touched) $("#target").value = video.id;
}

function dropZone(zone, input, handle) {
  input.addEventListener("change", () => handle([...input.files]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault(); zone.classList.remove("over");
    handle([...e.dataTransfer.files]);
  });
}
dropZone($("#upload-drop"), $("#file-input"), uploadAll);

async function loadLibrary() {
  const entries = await (await api("/api/library")).json();
  $("#library-box").classList.toggle("hidden", entries.length === 0);
  $("#library").innerHTML = entries.map((e) =>
    `<option value="${encodeURIComponent(e.name)}">${e.name.replace(/[<>&]/g, "")} (${e.kind})</option>`).join("");
}
$("#library-pick").addEventListener("click", async () => {
  const name = decodeURIComponent($("#library").value);
  try {
    const picked = await (await api("/api/library", { method: "POST", body: JSON.stringify({ name }),
      headers: { "Content-Type": "application/json" } })).json();
    setStatus($("#upload-status"), picked.already ? `${picked.name} is already here`
      : `added ${picked.name} (${picked.kind})`);
    await loadUploads();
  } catch (error) { setStatus($("#upload-status"), error.message, true); }
});
["#source", "#target"].forEach((id) => $(id).addEventListener("change", (e) => {
  e.target.dataset.touched = "1";
  if (id === "#target") { state.person = null; $("#persons").innerHTML = ""; }
}));

// Persons ---------------------------------------------------------------------------
$("#find-persons").addEventListener("click", async () => {
  const status = $("#persons-status");
  const target = $("#target").value;
  if (!target) return setStatus(status, "upload a target first", true);
  setStatus(status, "looking for persons (the first time analyses the whole target) ...");
  try {
    const persons = await (await api(`/api/uploads/${target}/persons`)).json();
    const box = $("#persons");
    box.innerHTML = "";
    for (const p of persons) {
      const div = document.createElement("div");
      div.className = "person" + (p.chosen ? " chosen" : "");
      div.dataset.person = p.person;
      div.innerHTML = `<img src="${p.thumbnail}?t=${Date.now()}" alt="person ${p.person}"><span>person ${p.person}: ${p.frames} frames</span>`;
      div.addEventListener("click", () => {
        box.querySelectorAll(".person").forEach((d) => d.classList.toggle("chosen", d === div));
        state.person = p.person;
      });
      box.appendChild(div);
      if (p.chosen) state.person = p.person;
    }
    setStatus(status, `${persons.length} person(s) found; click one to choose`);
  } catch (error) { setStatus(status, error.message, true); }
});

// Settings, preview, swap ----------------------------------------------------------
function options() {
  const value = (name) => $(`#opt-${name}`);
  return {
    color: value("color").value, blend: value("blend").value,
    mask_erode: Number(value("mask_erode").value), mask_blur: Number(value("mask_blur").value),
    relight: Number(value("relight").value), occlusion: value("occlusion").value,
    neighbours: Number(value("neighbours").value),
    keep_target_eyes: value("keep_target_eyes").checked,
    keep_target_mouth: value("keep_target_mouth").checked,
    visible_label: value("visible_label").checked,
  };
}

function swapRequest() {
  return { source: $("#source").value, target: $("#target").value, person: state.person,
           options: options(), frame: Number($("#frame").value) };
}

$("#preview-btn").addEventListener("click", async () => {
  const status = $("#preview-status");
  setStatus(status, "rendering preview ...");
  const started = performance.now();
  try {
    const response = await api("/api/preview", {
      method: "POST", body: JSON.stringify(swapRequest()),
      headers: { "Content-Type": "application/json" } });
    const blob = await response.blob();
    const img = $("#preview-img");
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(blob);
    const seconds = (performance.now() - started) / 1000;
    img.dataset.seconds = seconds.toFixed(3);
    setStatus(status, `preview in ${seconds.toFixed(2)} s`);
  } catch (error) { setStatus(status, error.message, true); }
});

$("#swap-btn").addEventListener("click", async () => {
  const status = $("#preview-status");
  try {
    const response = await api("/api/jobs", {
      method: "POST", body: JSON.stringify(swapRequest()),
      headers: { "Content-Type": "application/json" } });
    const job = await response.json();
    setStatus(status, `job ${job.id} queued`);
  } catch (error) { setStatus(status, error.message, true); }
});

// Jobs --------------------------------------------------------------------------------
function percent(job) {
  if (job.state === "done") return 100;
  return job.total ? Math.floor(100 * job.done / job.total) : 0;
}

function renderJobs(jobs) {
  state.jobs = jobs;
  const body = $("#jobs tbody");
  body.innerHTML = "";
  for (const job of jobs) {
    const row = document.createElement("tr");
    row.dataset.job = job.id;
    row.dataset.state = job.state;
    const pct = percent(job);
    const what = job.kind === "swap" ? "swap" : `eval of #${job.params.swap_job}`;
    const left = job.state === "running" && job.eta != null ? `${job.eta.toFixed(0)} s` : "";
    row.innerHTML = `<td>${job.id}</td><td>${what}</td><td class="state">${job.state}</td>` +
      `<td><span class="bar"><div style="width:${pct}%"></div></span> <span class="pct">${pct}%</span>` +
      ` <small>${(job.phase || "").split(" ")[0]} ${job.done}/${job.total}</small></td>` +
      `<td>${job.state === "running" ? job.fps.toFixed(1) : ""}</td><td>${left}</td><td class="actions"></td>`;
    const actions = row.querySelector(".actions");
    const button = (label, handler, cls) => {
      const b = document.createElement("button");
      b.textContent = label; b.className = cls; b.addEventListener("click", handler);
      actions.appendChild(b);
    };
    if (job.state === "queued" || job.state === "running") {
      button("Cancel", () => api(`/api/jobs/${job.id}/cancel`, { method: "POST" }), "cancel");
    }
    if (job.kind === "swap" && job.state === "done") {
      button("Play", () => play(job), "play");
      const a = document.createElement("a");
      a.href = `/api/jobs/${job.id}/result?download=1`; a.textContent = "Download"; a.className = "download";
      actions.appendChild(a);
      button("Verify", () => verifyJob(job), "verify");
      button("Evaluate", () => api(`/api/jobs/${job.id}/eval`, { method: "POST" }), "evaluate");
    }
    if (job.kind === "eval" && job.state === "done") {
      const a = document.createElement("a");
      a.href = `/report/${job.id}/index.html`; a.target = "_blank"; a.textContent = "Open report"; a.className = "report";
      actions.appendChild(a);
    }
    if (job.message) {
      const note = document.createElement("div");
      note.className = job.state === "failed" ? "error" : "status";
      note.textContent = job.message;
      actions.appendChild(note);
    }
    body.appendChild(row);
  }
}

function play(job) {
  const url = `/api/jobs/${job.id}/result`;
  const isPhoto = /\.(jpg|png|webp)$/.test(job.output);
  $("#player").innerHTML = isPhoto ? `<img src="${url}">` : `<video src="${url}" controls autoplay muted loop></video>`;
}

async function verifyJob(job) {
  const out = $("#verify-result");
  setStatus(out, `verifying the result of job ${job.id} ...`);
  try { showVerdict(`job ${job.id}`, await (await api(`/api/jobs/${job.id}/verify`, { method: "POST" })).json()); }
  catch (error) { setStatus(out, error.message, true); }
}

function showVerdict(name, found) {
  const out = $("#verify-result");
  out.classList.remove("error");
  out.innerHTML = `<div class="verdict" data-verdict="${found.verdict}">${name}: ${found.verdict}</div>` +
    found.lines.map((l) => `<div>${l.replace(/[<>&]/g, "")}</div>`).join("");
}

dropZone($("#verify-drop"), $("#verify-input"), async (files) => {
  const file = files[0];
  if (!file) return;
  setStatus($("#verify-result"), `verifying ${file.name} ...`);
  try {
    const response = await api("/api/verify", { method: "POST", body: file,
      headers: { "X-Filename": encodeURIComponent(file.name) } });
    showVerdict(file.name, await response.json());
  } catch (error) { setStatus($("#verify-result"), `${file.name}: ${error.message}`, true); }
});

function watchJobs() {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/jobs`);
  socket.onmessage = (event) => renderJobs(JSON.parse(event.data));
  socket.onclose = () => setTimeout(watchJobs, 1000);
}

// Live camera ----------------------------------------------------------------------
const live = { socket: null, stream: null, inFlight: 0, latencies: [], received: [], serverMs: [] };
window.liveStats = { fps: 0, p50: 0, frames: 0, server: 0 };
const MAX_IN_FLIGHT = 2;  // a second frame travels while the server works on the first

function median(values) {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function startLive() {
  stopLive();
  const readout = $("#live-readout");
  const source = $("#live-source").value;
  if (!source) return setStatus(readout, "upload a source face first (Files tab)", true);
  try {
    live.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (error) { return setStatus(readout, `no camera: ${error.message}`, true); }
  const video = $("#live-camera");
  video.srcObject = live.stream;
  await video.play();
  const label = $("#live-label").checked ? "1" : "0";
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/live?source=${source}&label=${label}`);
  socket.binaryType = "arraybuffer";
  live.socket = socket;
  setStatus(readout, "starting ...");
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.error) setStatus(readout, message.error, true);
      if (message.ready) sendFrames();
      return;
    }
    received(event.data);
  };
  socket.onclose = () => { if (live.socket === socket) setStatus(readout, "stopped"); };
}

const capture = document.createElement("canvas");
function sendFrames() {
  const video = $("#live-camera");
  const tick = () => {
    if (!live.socket || live.socket.readyState !== WebSocket.OPEN) return;
    if (live.inFlight < MAX_IN_FLIGHT && video.videoWidth) {
      capture.width = video.videoWidth; capture.height = video.videoHeight;
      const stamp = performance.now();
      capture.getContext("2d").drawImage(video, 0, 0);
      live.inFlight += 1;
      capture.toBlob(async (blob) => {
        const header = new Float64Array([stamp, 0]);
        const body = await blob.arrayBuffer();
        if (live.socket && live.socket.readyState === WebSocket.OPEN) live.socket.send(new Blob([header, body]));
        else live.inFlight -= 1;
      }, "image/jpeg", 0.8);
    }
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(tick);
    else setTimeout(tick, 15);
  };
  tick();
}

async function received(buffer) {
  live.inFlight = Math.max(0, live.inFlight - 1);
  const [stamp, serverMs] = new Float64Array(buffer.slice(0, 16));
  const bitmap = await createImageBitmap(new Blob([buffer.slice(16)], { type: "image/jpeg" }));
  const out = $("#live-out");
  if (out.width !== bitmap.width) { out.width = bitmap.width; out.height = bitmap.height; }
  out.getContext("2d").drawImage(bitmap, 0, 0);
  const now = performance.now();
  live.latencies.push(now - stamp); if (live.latencies.length > 100) live.latencies.shift();
  live.serverMs.push(serverMs); if (live.serverMs.length > 100) live.serverMs.shift();
  live.received.push(now);
  while (live.received.length && live.received[0] < now - 2000) live.received.shift();
  const span = (now - live.received[0]) / 1000;
  const fps = live.received.length > 1 && span > 0 ? (live.received.length - 1) / span : 0;
  const stats = window.liveStats;
  stats.fps = fps; stats.p50 = median(live.latencies); stats.server = median(live.serverMs); stats.frames += 1;
  stats.all = (stats.all || []); stats.all.push(now - stamp);
  $("#live-readout").textContent =
    `${fps.toFixed(1)} fps · latency p50 ${stats.p50.toFixed(0)} ms (server ${stats.server.toFixed(0)} ms) · ${stats.frames} frames`;
  $("#live-readout").classList.remove("error");
}

function stopLive() {
  if (live.socket) { const s = live.socket; live.socket = null; s.close(); }
  if (live.stream) { live.stream.getTracks().forEach((t) => t.stop()); live.stream = null; }
  live.inFlight = 0;
}
$("#live-start").addEventListener("click", startLive);
$("#live-stop").addEventListener("click", () => { stopLive(); $("#live-readout").textContent = "stopped"; });

loadUploads();
loadLibrary();
watchJobs();
