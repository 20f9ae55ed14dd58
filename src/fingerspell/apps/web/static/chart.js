// The letter chart: a hand per class drawn from static/letters.json (mean landmarks of real photos),
// and the tips for the letters the model (and learners) mix up.
"use strict";

const Chart = (() => {
  const FINGERS = [[0, 1, 2, 3, 4], [0, 5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16], [0, 17, 18, 19, 20]];
  const PALM = [[5, 9], [9, 13], [13, 17]];
  const COLORS = ["#f5a524", "#3b82f6", "#2fbf71", "#c084fc", "#f472b6"];
  const GROUPS = [
    { letters: "RU", tip: "R crosses the index and middle fingers; U holds them straight, side by side." },
    { letters: "GT", tip: "G points the index finger sideways with the thumb parallel; T is a fist with the thumb " +
      "tucked between the index and middle fingers." },
    { letters: "DZ", tip: "D holds the index finger up, still, the other fingertips on the thumb; Z draws a Z in " +
      "the air with the index finger." },
    { letters: "CO", tip: "C leaves a gap between the thumb and the fingers; O closes the fingertips onto the thumb." },
    { letters: "MNSTAE", tip: "The fist letters differ by the thumb: A beside the index, S across the fingers, " +
      "E under the curled fingertips, T between index and middle, N between middle and ring, M under three fingers." },
    { letters: "KV", tip: "V spreads the index and middle fingers; K puts the thumb tip between them, on the " +
      "middle finger." },
    { letters: "HG", tip: "G points only the index finger sideways; H points the index and middle fingers " +
      "together sideways." },
  ];
  // Each letter's shape in one line, for a mix-up no group above covers (O read as A).
  const SHAPES = {
    A: "a fist, the thumb straight up beside the index finger",
    B: "four fingers straight up together, the thumb folded across the palm",
    C: "the hand curved like a C, a gap between the thumb and the fingers",
    D: "the index finger up, the other fingertips touching the thumb",
    E: "the fingertips curled down onto the thumb, folded under them",
    F: "the index fingertip on the thumb tip in a circle, the other three fingers up and spread",
    G: "the index finger and the thumb pointing sideways, parallel",
    H: "the index and middle fingers pointing sideways together",
    I: "the little finger up, the other fingers in a fist",
    J: "the I hand drawing a J: the little finger hooks down and back as the wrist turns",
    K: "the index and middle fingers up, the thumb tip between them on the middle finger",
    L: "the thumb and the index finger in an L",
    M: "the thumb under three fingers (index, middle, ring)",
    N: "the thumb under two fingers (index, middle)",
    O: "all the fingertips meeting the thumb tip in a round O",
    P: "a K pointing down: the middle finger down, the thumb on it",
    Q: "a G pointing down: the index finger and the thumb point down",
    R: "the index and middle fingers up and crossed",
    S: "a fist, the thumb across the front of the fingers",
    T: "a fist, the thumb tucked between the index and middle fingers",
    U: "the index and middle fingers straight up, side by side",
    V: "the index and middle fingers up and spread in a V",
    W: "the index, middle and ring fingers up and spread",
    X: "the index finger bent into a hook, the other fingers in a fist",
    Y: "the thumb and the little finger out, the other fingers curled",
    Z: "the index finger drawing a Z in the air",
  };
  let data = null;

  async function load() {
    if (data) return data;
    const r = await fetch("/static/letters.json");
    data = (await r.json()).classes;
    return data;
  }

  // The tip for `target` read as `read` (null: no reading yet): the group tip that covers both
  // letters, else what each letter looks like, so that a tip always speaks of the letters involved.
  function tipFor(target, read) {
    const both = GROUPS.find(g => g.letters.includes(target) && read && g.letters.includes(read));
    if (both) return both.tip;
    const shape = letter => SHAPES[letter] ? `${letter} is ${SHAPES[letter]}.` : "";
    if (read && SHAPES[read]) return `${shape(target)} ${shape(read)}`.trim();
    const one = GROUPS.find(g => g.letters.includes(target));
    return one ? one.tip : shape(target);
  }

  function label(name) {
    return name === "NOTHING" ? "no letter" : name === "SPACE" ? "space" : name === "DEL" ? "delete" : name;
  }

  // Draw class `name` into `canvas`, mirrored as in the selfie view.
  function draw(canvas, name) {
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const entry = data && data[name];
    if (!entry || !entry.points) {
      ctx.strokeStyle = "#3a434f"; ctx.setLineDash([4, 4]); ctx.strokeRect(W * .15, H * .15, W * .7, H * .7);
      ctx.setLineDash([]); ctx.fillStyle = "#9aa4ae"; ctx.font = `${Math.round(H / 9)}px sans-serif`;
      ctx.textAlign = "center"; ctx.fillText("no hand", W / 2, H / 2);
      return;
    }
    const pts = entry.points.map(p => [-p[0], p[1]]);
    const xs = pts.map(p => p[0]), ys = pts.map(p => p[1]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const s = 0.8 * Math.min(W / (x1 - x0 || 1), H / (y1 - y0 || 1));
    const P = i => [W / 2 + (pts[i][0] - (x0 + x1) / 2) * s, H / 2 + (pts[i][1] - (y0 + y1) / 2) * s];
    ctx.lineWidth = Math.max(2, W / 40); ctx.lineCap = "round";
    ctx.strokeStyle = "#6b7785";
    PALM.forEach(([a, b]) => { ctx.beginPath(); ctx.moveTo(...P(a)); ctx.lineTo(...P(b)); ctx.stroke(); });
    FINGERS.forEach((chain, f) => {
      ctx.strokeStyle = COLORS[f]; ctx.beginPath(); ctx.moveTo(...P(chain[0]));
      chain.slice(1).forEach(i => ctx.lineTo(...P(i))); ctx.stroke();
    });
    ctx.fillStyle = "#eef1f4";
    pts.forEach((_, i) => { ctx.beginPath(); ctx.arc(...P(i), Math.max(1.5, W / 60), 0, 7); ctx.fill(); });
  }

  async function build(container, classes) {
    await load();
    container.textContent = "";
    classes.forEach(name => {
      const card = document.createElement("div");
      card.className = "card"; card.dataset.letter = name;
      const c = document.createElement("canvas"); c.width = 168; c.height = 168;
      const b = document.createElement("b"); b.textContent = label(name);
      card.append(c, b);
      const tip = tipFor(name, null);
      if (tip) card.title = tip;
      container.append(card);
      draw(c, name);
    });
  }

  return { load, draw, build, tipFor, label, GROUPS, SHAPES };
})();
