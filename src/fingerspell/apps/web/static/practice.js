// Practice mode: spell a target word from a graded list; per-letter feedback, speed, a summary with
// tips, and progress kept in this browser only (localStorage).
"use strict";

const Practice = (() => {
  const LEVELS = [
    { name: "1 · Clear shapes", words: ["BID", "COW", "LID", "FLY", "OWL", "BOLD", "WILD", "FOLD", "CLIP", "YAWL"] },
    { name: "2 · Everyday words", words: ["CAT", "DOG", "SUN", "HAT", "MAP", "PEN", "CUP", "BOX", "RED", "YES"] },
    { name: "3 · Look-alike letters", words: ["RUN", "MEN", "NEST", "TEAM", "SNOW", "GATE", "HUG", "KEY", "MAST", "TUNE"] },
    { name: "4 · Longer words", words: ["HELLO", "THANKS", "PLEASE", "FRIEND", "WATER", "SCHOOL", "FAMILY"] },
    { name: "5 · Moving letters", words: ["JAM", "ZOO", "JOY", "ZIP", "JAZZ", "QUIZ"] },
  ];
  const KEY = "fingerspell.practice.v1";
  let ui = null, round = null;

  function loadProgress() {
    try { return JSON.parse(localStorage.getItem(KEY)) || { rounds: 0, letters: {}, best_lpm: 0, level: 0, next: {} }; }
    catch (e) { return { rounds: 0, letters: {}, best_lpm: 0, level: 0, next: {} }; }
  }
  function saveProgress(p) { try { localStorage.setItem(KEY, JSON.stringify(p)); } catch (e) { /* private mode */ } }

  function init(elements) {
    ui = elements;
    LEVELS.forEach((lv, i) => { const o = document.createElement("option"); o.value = i; o.textContent = lv.name; ui.level.append(o); });
    ui.level.value = loadProgress().level || 0;
    ui.level.onchange = () => { const p = loadProgress(); p.level = +ui.level.value; saveProgress(p); next(); };
    ui.next.onclick = () => next();
    ui.skip.onclick = () => next();
    ui.forget.onclick = () => { localStorage.removeItem(KEY); ui.summary.hidden = true; };
  }

  function next() {
    const p = loadProgress(), lv = +ui.level.value, words = LEVELS[lv].words;
    const i = (p.next[lv] || 0) % words.length;
    p.next[lv] = i + 1; saveProgress(p);
    start(words[i]);
  }

  function start(word) {
    round = { word: word.toUpperCase(), pos: 0, marks: [], attempts: [], t0: performance.now(), tLast: null, done: false };
    ui.summary.hidden = true; ui.feedback.textContent = ""; ui.feedback.className = "feedback"; ui.lpm.textContent = "–";
    render();
  }

  function render() {
    if (!round) return;
    ui.target.textContent = "";
    [...round.word].forEach((ch, i) => {
      const cell = document.createElement("div"), m = round.marks[i];
      cell.className = "cell" + (m ? (m.ok ? " right" : " wrong") : (i === round.pos && !round.done ? " current" : ""));
      cell.dataset.state = m ? (m.ok ? "right" : "wrong") : "pending";
      cell.textContent = ch;
      if (m && !m.ok) { const s = document.createElement("small"); s.textContent = "read " + m.read; cell.append(s); }
      ui.target.append(cell);
    });
    const target = round.word[round.pos];
    if (target && !round.done) { Chart.draw(ui.hint, target); ui.hintText.textContent = `Next: ${target}. ${Chart.tipFor(target, null)}`; }
    else { ui.hint.getContext("2d").clearRect(0, 0, ui.hint.width, ui.hint.height); ui.hintText.textContent = "Round done: press Next word."; }
  }

  // One written letter from the server: {letter, kind}.
  function onWritten(w) {
    if (!round || round.done || !w || !w.letter) return;
    if (w.letter === "DEL") {
      if (round.pos > 0) { round.pos -= 1; round.marks[round.pos] = null; render(); }
      return;
    }
    if (w.letter === "SPACE" || w.letter === "NOTHING") return;
    const target = round.word[round.pos], ok = w.letter === target, now = performance.now();
    round.marks[round.pos] = { ok, read: w.letter };
    round.attempts.push({ target, read: w.letter, ok });
    round.pos += 1; round.tLast = now;
    ui.feedback.className = "feedback " + (ok ? "right" : "wrong");
    ui.feedback.textContent = ok ? `✓ ${target}` : `✗ ${target}: read ${w.letter}. ${Chart.tipFor(target, w.letter)}`;
    ui.lpm.textContent = lpm().toFixed(0);
    render();
    if (round.pos >= round.word.length) finish();
  }

  function lpm() {
    const minutes = ((round.tLast || performance.now()) - round.t0) / 60000;
    return minutes > 0 ? round.attempts.length / minutes : 0;
  }

  function finish() {
    round.done = true;
    const right = round.attempts.filter(a => a.ok).length, speed = lpm();
    const p = loadProgress();
    p.rounds += 1; p.best_lpm = Math.max(p.best_lpm || 0, speed);
    round.attempts.forEach(a => {
      const s = p.letters[a.target] || (p.letters[a.target] = { right: 0, wrong: 0 });
      a.ok ? s.right++ : s.wrong++;
    });
    saveProgress(p);
    summary(right, speed, p);
    render();
  }

  function summary(right, speed, p) {
    const box = ui.summary; box.textContent = ""; box.hidden = false;
    const h = document.createElement("h3");
    h.textContent = `${round.word}: ${right} of ${round.word.length} right, ${speed.toFixed(0)} letters/min`;
    box.append(h);
    const wrong = round.attempts.filter(a => !a.ok);
    const ul = document.createElement("ul");
    wrong.forEach(a => { const li = document.createElement("li"); li.dataset.letter = a.target;
      li.textContent = `${a.target} (read ${a.read}): ${Chart.tipFor(a.target, a.read) || "hold the shape still for a moment."}`;
      ul.append(li); });
    if (!wrong.length) { const li = document.createElement("li"); li.textContent = "No trouble letters this round."; ul.append(li); }
    box.append(ul);
    const hard = Object.entries(p.letters).filter(([, s]) => s.wrong > 0)
      .sort((a, b) => b[1].wrong / (b[1].right + b[1].wrong) - a[1].wrong / (a[1].right + a[1].wrong)).slice(0, 3);
    const overall = document.createElement("p"); overall.className = "small";
    overall.textContent = `${p.rounds} round${p.rounds === 1 ? "" : "s"} so far, best ${Math.round(p.best_lpm)} letters/min` +
      (hard.length ? `; your trouble letters: ${hard.map(([l, s]) => `${l} (${s.wrong}/${s.right + s.wrong} wrong)`).join(", ")}` : "");
    box.append(overall);
  }

  return { init, start, next, onWritten, LEVELS, get round() { return round; } };
})();
