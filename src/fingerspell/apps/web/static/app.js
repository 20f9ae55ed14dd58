// The page: camera -> JPEG frames over a WebSocket (one in flight, dropped rather than queued) ->
// readings drawn over a mirrored selfie view; sentence edits, speech, practice mode, letter chart.
"use strict";

const $ = id => document.getElementById(id);
const EDGES = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [5, 9], [9, 10], [10, 11], [11, 12],
  [9, 13], [13, 14], [14, 15], [15, 16], [13, 17], [0, 17], [17, 18], [18, 19], [19, 20]];
const HOLD_TEXT = { no_hand: "no hand", moving: "moving", holding: "holding", read: "read ✓", reading: "reading" };
const state = {
  ws: null, inFlight: false, sentAt: 0, last: null, mode: "spell", spoken: 0, frames: 0, latencies: [],
  grab: document.createElement("canvas"), shown: document.createElement("canvas"), closedForGood: false, readings: 0,
};
window.fingerspell = state; // for the browser test and for curious users

function message(text, ok = false) {  // a problem in red; ok: a confirmation in green
  const m = $("message"); m.textContent = text || ""; m.hidden = !text; m.classList.toggle("ok", ok);
}

function setMode(mode) {
  state.mode = mode;
  ["spell", "practice", "chart", "video"].forEach(m => { $("panel-" + m).hidden = m !== mode; $("tab-" + m).classList.toggle("active", m === mode); });
  if (mode === "practice" && !Practice.round) Practice.next();
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    message("This browser gives no camera to this page: use localhost, or https for other devices (see docs/web.md).");
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: false,
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" } });
    const v = $("video"); v.srcObject = stream; await v.play();
    $("start").hidden = true;
    connect();
    pumpOnFrames();
  } catch (e) {
    $("start").hidden = false;
    message(`No camera: ${e.name}: ${e.message}. Allow the camera and press Start camera.`);
  }
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.binaryType = "arraybuffer";
  state.ws = ws; state.inFlight = false;
  ws.onopen = () => { $("status").textContent = "connected"; };
  ws.onmessage = ev => handle(JSON.parse(ev.data));
  ws.onclose = ev => {
    $("status").textContent = "disconnected";
    if (ev.code === 1008 || ev.code === 1013 || state.closedForGood) return; // refused: do not hammer the server
    setTimeout(connect, 2000);
  };
}

// Send the current camera frame if none is in flight; called once per camera frame.
function pump() {
  const v = $("video"), ws = state.ws;
  if (!ws || ws.readyState !== 1 || v.readyState < 2) return;
  if (state.inFlight && performance.now() - state.sentAt < 3000) return; // drop this frame
  const w = v.videoWidth, h = v.videoHeight, g = state.grab;
  if (!w || !h) return;
  if (g.width !== w) { g.width = w; g.height = h; }
  g.getContext("2d").drawImage(v, 0, 0, w, h);
  state.inFlight = true; state.sentAt = performance.now();
  const t = state.sentAt / 1000;
  g.toBlob(async blob => {
    if (!blob || ws.readyState !== 1) { state.inFlight = false; return; }
    const jpeg = new Uint8Array(await blob.arrayBuffer());
    const msg = new Uint8Array(12 + jpeg.length), dv = new DataView(msg.buffer);
    msg.set([70, 83, 84, 49]); dv.setFloat64(4, t, true); msg.set(jpeg, 12); // "FST1" + time + JPEG
    ws.send(msg); state.frames++;
  }, "image/jpeg", 0.8);
}

function pumpOnFrames() {
  const v = $("video");
  if (v.requestVideoFrameCallback) { const f = () => { pump(); v.requestVideoFrameCallback(f); }; v.requestVideoFrameCallback(f); }
  else setInterval(pump, 33);
}

function handle(msg) {
  if (msg.type === "reading") {
    state.inFlight = false; state.readings++;
    state.latencies.push(performance.now() - state.sentAt);
    if (state.latencies.length > 100) state.latencies.shift();
    state.last = msg;
    keepReadFrame();
    showReading(msg);
  } else if (msg.type === "error" || msg.type === "dropped") {
    state.inFlight = false;
    if (msg.message) message(msg.message);
    if (msg.code === "full" || msg.code === "closed") state.closedForGood = true;
  } else if (msg.type === "sentence") {
    showSentence(msg.sentence, msg.current_word, msg.suggestions, msg.words);
  } else if (msg.type === "hello") {
    $("status").textContent = `connected (session ${msg.connection})`; message("");
  }
}

// The frame just read (still in the grab canvas: one frame in flight) is the one drawn, so the
// skeleton always matches the picture under it.
function keepReadFrame() {
  const g = state.grab, s = state.shown;
  if (!g.width) return;
  if (s.width !== g.width || s.height !== g.height) { s.width = g.width; s.height = g.height; }
  s.getContext("2d").drawImage(g, 0, 0);
}

function holdState(msg) {
  if (msg.hold_state) return msg.hold_state;
  if (!msg.hands.length) return "no_hand";
  if (msg.written) return "read";
  return msg.stable ? "holding" : "reading";
}

function showReading(msg) {
  $("letter").textContent = msg.letter || "–";
  const hs = holdState(msg);
  $("hold-state").textContent = (HOLD_TEXT[hs] || hs) + (msg.cut_off ? " · hand out of the picture: move it to the middle" : "");
  $("hold-bar").style.width = `${Math.round(100 * (msg.progress != null ? msg.progress : (msg.stable ? 1 : 0)))}%`;
  showSentence(msg.sentence, msg.current_word, msg.suggestions, msg.words);
  $("learning").textContent = learningNote(msg.adaptation);
  if (msg.written) Practice.onWritten(msg.written);
  const lat = [...state.latencies].sort((a, b) => a - b);
  $("stats").textContent = `${state.readings} readings, latency p50 ${Math.round(lat[lat.length >> 1] || 0)} ms, ` +
    `server ${msg.server_ms} ms`;
}

// Whether the reader follows this person yet (the live window's panel line, apps/live_widgets.py).
function learningNote(a) {
  if (a && a.off && a.off.startsWith("learning stopped")) return a.off;  // it was on and failed: say so
  if (!a || a.off) return "";
  if (a.kind === "words") return a.active ? `learned from your words (${a.words} words, ${a.letters} letters)`
    : "learning from your words: none yet";
  return a.active ? `adapted to you (${a.letters} letters)` : `adapting to you: ${a.letters}/${a.needed} letters`;
}

function showSentence(text, current, suggestions, words) {
  $("sentence").textContent = text || "";
  $("current-word").textContent = current != null ? current : ((text || "").split(" ").pop() || "");
  const box = $("suggestions"); box.textContent = "";
  (suggestions || []).forEach((w, i) => {
    const b = document.createElement("button"); b.textContent = `${i + 1} ${w}`; b.onclick = () => command("pick", i + 1); box.append(b);
  });
  if (words) speakNew(words);
}

// Say the words the server reports as finished, once each.
function speakNew(words) {
  if (words.length < state.spoken) state.spoken = words.length;
  const fresh = words.slice(state.spoken); state.spoken = words.length;
  if (!fresh.length || !$("speak").checked || !window.speechSynthesis) return;
  fresh.forEach(w => window.speechSynthesis.speak(new SpeechSynthesisUtterance(w.toLowerCase())));
}

function command(type, index) {
  if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify(index == null ? { type } : { type, index }));
}

// Draw the mirrored video, then the hand (mirrored to match), then text the right way round.
function render() {
  const c = $("view"), ctx = c.getContext("2d"), v = $("video");
  if (v.videoWidth && c.width !== v.videoWidth) { c.width = v.videoWidth; c.height = v.videoHeight; }
  const W = c.width, H = c.height;
  ctx.save(); ctx.translate(W, 0); ctx.scale(-1, 1);
  const src = state.last && state.shown.width ? state.shown : (v.readyState >= 2 ? v : null);
  if (src) ctx.drawImage(src, 0, 0, W, H); else { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, W, H); }
  const msg = state.last;
  if (msg) msg.hands.forEach(h => drawHand(ctx, h, W, H, h.track === msg.writer));
  if (msg && msg.resting) drawResting(ctx, msg.resting, W, H);
  ctx.restore();
  if (msg) msg.hands.forEach(h => drawLabel(ctx, h, W, H));
  if (msg && msg.resting) drawLabel(ctx, { box: msg.resting, label: "resting", accepted: true }, W, H);
  drawBand(ctx, msg ? msg.sentence : "", W, H);
  requestAnimationFrame(render);
}

function drawHand(ctx, h, W, H, writer) {
  const [x0, y0, x1, y1] = h.box;
  ctx.lineWidth = 3; ctx.strokeStyle = writer ? "#2fbf71" : "#9aa4ae";
  ctx.strokeRect(x0 * W, y0 * H, (x1 - x0) * W, (y1 - y0) * H);
  ctx.strokeStyle = "#3b82f6"; ctx.lineWidth = 2;
  EDGES.forEach(([a, b]) => { ctx.beginPath(); ctx.moveTo(h.landmarks[a][0] * W, h.landmarks[a][1] * H);
    ctx.lineTo(h.landmarks[b][0] * W, h.landmarks[b][1] * H); ctx.stroke(); });
  ctx.fillStyle = "#f5a524";
  h.landmarks.forEach(p => { ctx.beginPath(); ctx.arc(p[0] * W, p[1] * H, 3, 0, 7); ctx.fill(); });
}

// A resting hand the server set aside (another hand spells): a grey dashed box, not read.
function drawResting(ctx, box, W, H) {
  const [x0, y0, x1, y1] = box;
  ctx.save(); ctx.setLineDash([8, 8]); ctx.lineWidth = 2; ctx.strokeStyle = "#9aa4ae";
  ctx.strokeRect(x0 * W, y0 * H, (x1 - x0) * W, (y1 - y0) * H); ctx.restore();
}

function drawLabel(ctx, h, W, H) {
  const x = (1 - h.box[2]) * W, y = Math.max(24, h.box[1] * H - 8); // the box's left edge once mirrored
  const text = h.confidence == null ? h.label : `${h.label}${h.accepted ? "" : "?"} ${Math.round(100 * h.confidence)}%`;
  ctx.font = "bold 22px system-ui, sans-serif";
  ctx.fillStyle = "rgba(0,0,0,.6)"; ctx.fillRect(x, y - 22, ctx.measureText(text).width + 10, 28);
  ctx.fillStyle = "#fff"; ctx.fillText(text, x + 5, y);
}

function drawBand(ctx, text, W, H) {
  const band = Math.max(28, H / 12);
  ctx.fillStyle = "rgba(0,0,0,.6)"; ctx.fillRect(0, H - band, W, band);
  ctx.fillStyle = "#fff"; ctx.font = `${Math.round(band * 0.6)}px ui-monospace, monospace`;
  let shown = text || "";
  while (shown && ctx.measureText(shown).width > W - 20) shown = shown.slice(1);
  ctx.fillText(shown, 10, H - band / 3);
}

function keys(ev) {
  if (ev.target.tagName === "SELECT" || ev.target.tagName === "INPUT") return;
  const k = ev.key;
  if (k === " ") { command("space"); ev.preventDefault(); }
  else if (k === "Backspace") command("delete");
  else if (k === "u") command("undo");
  else if (k === "Escape") command("reset");
  else if ("123".includes(k) && k.length === 1) command("pick", +k);
  else if (k === "c" && !ev.ctrlKey && !ev.metaKey) copySentence();
}

// "Read a video": the chosen file goes to the server, which reads it as `fingerspell run` does.
async function readVideo() {
  const file = $("video-file").files[0];
  if (!file) { $("video-status").textContent = "choose a video first"; return; }
  $("btn-read").disabled = true; $("srt-link").hidden = true; $("video-text").textContent = "";
  $("video-words").textContent = "";
  $("video-status").textContent = `reading ${file.name} (${(file.size / 1e6).toFixed(1)} MB): this takes about as long as the video plays…`;
  try {
    const r = await fetch(`/api/read?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
    const got = await r.json();
    if (!r.ok) { $("video-status").textContent = got.error || `the server answered ${r.status}`; return; }
    $("video-text").textContent = got.text;
    got.words.forEach(w => {
      const li = document.createElement("li"); li.textContent = `${w.word}  ${w.start.toFixed(1)}–${w.end.toFixed(1)} s`;
      $("video-words").append(li);
    });
    $("video-status").textContent = `${file.name}: ${got.words.length} word(s) in ${got.frames} frames` +
      (got.note ? ` (${got.note})` : "");
    const link = $("srt-link");
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([got.srt], { type: "text/plain" }));
    link.download = file.name.replace(/\.[^.]*$/, "") + ".srt"; link.hidden = !got.words.length;
  } catch (e) {
    $("video-status").textContent = "the video could not be sent to the server: is fingerspell serve still running?";
  } finally { $("btn-read").disabled = false; }
}

// The sentence as plain text on the clipboard, to paste where the person wants it.
async function copySentence(from = "sentence") {
  const text = $(from).textContent.trim();
  if (!text) { message("nothing to copy yet: spell a word first"); return; }
  try { await navigator.clipboard.writeText(text); message(`copied: ${text}`, true); }
  catch (e) { message("the browser did not allow copying: select the sentence and copy it by hand"); }
}

async function main() {
  document.querySelectorAll(".tab").forEach(b => { b.onclick = () => setMode(b.dataset.mode); });
  $("btn-space").onclick = () => command("space"); $("btn-delete").onclick = () => command("delete");
  $("btn-undo").onclick = () => command("undo"); $("btn-reset").onclick = () => command("reset");
  $("btn-copy").onclick = () => copySentence(); $("btn-read").onclick = readVideo;
  $("btn-video-copy").onclick = () => copySentence("video-text");
  $("start").onclick = startCamera;
  document.addEventListener("keydown", keys);
  Practice.init({ level: $("level"), target: $("target"), feedback: $("feedback"), lpm: $("lpm"), summary: $("summary"),
    next: $("btn-next"), skip: $("btn-skip"), forget: $("btn-forget"), hint: $("hint"), hintText: $("hint-text") });
  const info = await (await fetch("/api/info")).json();
  await Chart.build($("chart"), info.classes);
  const q = new URLSearchParams(location.search);
  if (q.get("word")) Practice.start(q.get("word").replace(/[^A-Za-z]/g, "").slice(0, 20) || "CAT");
  setMode(["spell", "practice", "chart", "video"].includes(q.get("mode")) ? q.get("mode") : "spell");
  requestAnimationFrame(render);
  startCamera();
}

main();
