// Condenser playground: no build step, no dependencies.
// Every piece of user or server text reaches the page through textContent / createTextNode, never innerHTML.
"use strict";

// The API lives beside /playground (also behind a path prefix: /prefix/playground -> /prefix/v1/...).
const API_ROOT = window.location.pathname.replace(/\/playground(\/.*)?$/, "");
const FALLBACK_METHODS = ["condenser", "extractive", "retrieve", "cfic", "truncate"];

// ESTIMATE ONLY: public list prices per 1M input tokens, full and as a provider-cached prefix, from the table
// the proxy's cost headers use (api/static/prices.json, dated). Check your provider's price page.
let PRICES_AS_OF = "";
let PRICES = [];  // { model, usdPerMTok, cachedUsdPerMTok }

async function loadPrices() {
  try {
    const response = await fetch(API_ROOT + "/playground/prices.json");
    const table = response.ok ? await response.json() : null;
    if (!table || !Array.isArray(table.models)) throw new Error(`HTTP ${response.status}`);
    PRICES_AS_OF = String(table.as_of);
    PRICES = table.models.map((m) => ({ model: String(m.model), usdPerMTok: Number(m.usd_per_mtok),
      cachedUsdPerMTok: Number(m.cached_usd_per_mtok) }));
  } catch (_) {
    PRICES = [];  // no price table: token counts only, the cost line says n/a
  }
}

const $ = (id) => document.getElementById(id);

function setText(id, text) {
  $(id).textContent = text;
}

function option(value, label) {
  const el = document.createElement("option");
  el.value = value;
  el.textContent = label;
  return el;
}

function authHeaders() {
  const key = $("api-key").value.trim();
  return key ? { Authorization: "Bearer " + key } : {};
}

// --- set-up -------------------------------------------------------------------------------------------

async function loadMethods() {
  let names = FALLBACK_METHODS;
  let unready = [];  // methods the service has but cannot run now: shown disabled, with what they need
  let preferred = "condenser";
  try {
    const response = await fetch(API_ROOT + "/v1/methods", { headers: authHeaders() });
    if (response.ok) {
      const body = await response.json();
      const list = Array.isArray(body) ? body : body.methods;
      if (Array.isArray(list) && list.length) {
        names = list.map((m) => (typeof m === "string" ? m : m.name)).filter((m) => typeof m === "string");
      }
      if (Array.isArray(body.details) && body.details.length) {
        unready = body.details.filter((d) => !d.ready);
        names = names.filter((name) => !unready.some((d) => d.name === name));
      }
      if (typeof body.default === "string") preferred = body.default;
    }
  } catch (_) {
    // the service has no method list: keep the built-in one
  }
  const select = $("method");
  const waiting = unready.map((d) => {
    const el = option(d.name, `${d.name} (needs a checkpoint)`);
    el.disabled = true;
    el.title = d.detail;
    return el;
  });
  select.replaceChildren(...names.map((name) => option(name, name)), ...waiting);
  select.value = names.includes(preferred) ? preferred : names.includes("condenser") ? "condenser" : names[0];
}

async function fillModels() {
  await loadPrices();
  const models = PRICES.map((p) =>
    option(p.model, `${p.model} ($${p.usdPerMTok}/M input tokens, $${p.cachedUsdPerMTok}/M cached)`));
  $("model").replaceChildren(...(models.length ? models : [option("", "any (cl100k_base tokens)")]));
  setText("price-note",
    `Cost saved is an estimate from public list prices for input tokens as of ${PRICES_AS_OF || "?"}, ` +
    "times the tokens removed, at the full price and at the cached-input price (what a prefix the provider " +
    "caches costs); tokens are counted with the target model's tokenizer where the service " +
    "knows it (else cl100k_base). Check your provider's current prices.");
}

function syncBudgetInputs() {
  const byRate = $("budget-rate").checked;
  $("rate").disabled = !byRate;
  $("target-tokens").disabled = byRate;
}

async function loadSample() {
  try {
    const response = await fetch(API_ROOT + "/playground/sample.json");
    const sample = response.ok ? await response.json() : null;
    if (!sample || typeof sample.context !== "string") throw new Error(`HTTP ${response.status}`);
    $("context").value = sample.context;
    $("query").value = typeof sample.query === "string" ? sample.query : "";
    status(`Loaded the sample (${sample.context.length.toLocaleString()} characters) and its question: ` +
      "press Compress.");
    $("context").scrollTop = 0;
  } catch (err) {
    status("Could not load the sample: " + err.message, true);
  }
}

function loadFile(event) {
  const file = event.target.files && event.target.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    $("context").value = String(reader.result);
    status(`Loaded ${file.name} (${$("context").value.length.toLocaleString()} characters).`);
  };
  reader.onerror = () => status(`Could not read ${file.name}.`, true);
  reader.readAsText(file);
}

// --- running ------------------------------------------------------------------------------------------

function status(message, isError = false) {
  const el = $("status");
  el.textContent = message;
  el.classList.toggle("error", isError);
}

function request() {
  const body = {
    context: $("context").value,
    query: $("query").value.trim() || null,
    method: $("method").value,
    options: { model: $("model").value },
  };
  if ($("budget-rate").checked) body.rate = Number($("rate").value);
  else body.target_tokens = Math.round(Number($("target-tokens").value));
  return body;
}

function problem(body) {
  const invalid = body.rate !== undefined ? !(body.rate > 0 && body.rate <= 1) : !(body.target_tokens >= 1);
  if (!body.context.trim()) return "Paste or load a context first.";
  if (invalid) return "The budget must be a fraction in (0, 1] or a positive number of tokens.";
  return null;
}

function errorText(status, body) {
  if (body && typeof body === "object") {
    if (body.error && typeof body.error.message === "string") return body.error.message;
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map((d) => (d && d.msg) || String(d)).join("; ");
    if (typeof body.error === "string") return body.error;
  }
  return `the service answered HTTP ${status}`;
}

async function run(event) {
  event.preventDefault();
  const body = request();
  const invalid = problem(body);
  if (invalid) {
    status(invalid, true);
    return;
  }
  const button = $("run");
  button.disabled = true;
  status("Compressing…");
  const started = performance.now();
  try {
    const response = await fetch(API_ROOT + "/v1/compress", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify(body),
    });
    const elapsedMs = performance.now() - started;
    const answer = await response.json().catch(() => null);
    if (!response.ok || !answer) {
      status("Compression failed: " + errorText(response.status, answer), true);
      return;
    }
    show(body, answer, elapsedMs);
    status(`Compressed ${answer.original_tokens} to ${answer.compressed_tokens} tokens.`);
  } catch (err) {
    status("Could not reach the service: " + err.message, true);
  } finally {
    button.disabled = false;
  }
}

// --- showing ------------------------------------------------------------------------------------------

function show(body, result, elapsedMs) {
  const saved = result.original_tokens - result.compressed_tokens;
  setText("stat-original", result.original_tokens.toLocaleString());
  setText("stat-compressed", result.compressed_tokens.toLocaleString());
  setText("stat-ratio", `${Number(result.ratio).toFixed(1)}× (${saved.toLocaleString()} tokens saved)`);
  setText("stat-cost", costText(saved, body.options.model));
  const serverS = result.timings && typeof result.timings.total === "number" ? result.timings.total : null;
  setText("stat-latency", `${Math.round(elapsedMs)} ms round trip` +
    (serverS === null ? "" : `, ${Math.round(serverS * 1000)} ms compressing`));
  setText("stat-cache", result.cached ? "hit (served from the cache)" : "miss (computed now)");
  $("stat-original").title = `tokens counted with ${result.encoding || "cl100k_base"}`;

  renderView($("view"), body.context, (result.kept || []).filter((s) => (s.doc || 0) === 0));
  $("output").value = result.text;
  $("results").hidden = false;
  $("results-title").focus();
}

function costText(savedTokens, model) {
  const price = PRICES.find((p) => p.model === model);
  if (!price) return "n/a";
  const perCall = (savedTokens * price.usdPerMTok) / 1e6;
  const cached = (savedTokens * price.cachedUsdPerMTok) / 1e6;  // the same tokens read from a provider cache
  return `≈ $${perCall.toFixed(4)} per call, $${(perCall * 1000).toFixed(2)} per 1,000 calls; ` +
    `$${cached.toFixed(4)} per call if this context is a provider-cached prefix ` +
    `(${model}, estimate, ${PRICES_AS_OF} prices)`;
}

// Python gives character offsets in code points; JavaScript strings index UTF-16 units. Map one to the other.
function codePointIndex(text) {
  if (!/[\uD800-\uDFFF]/.test(text)) return (i) => i;
  const units = [0];
  for (const ch of text) units.push(units[units.length - 1] + ch.length);
  return (i) => units[Math.min(i, units.length - 1)];
}

function renderView(container, original, spans) {
  const at = codePointIndex(original);
  const kept = spans.map((s) => ({ start: at(s.start), end: at(s.end), score: s.score }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start);
  const scores = kept.map((s) => s.score).filter((s) => typeof s === "number");
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  const nodes = [];
  let pos = 0;
  for (const span of kept) {
    const start = Math.max(span.start, pos);
    if (start >= span.end) continue;
    if (start > pos) nodes.push(...gap(original.slice(pos, start)));
    const mark = document.createElement("mark");
    mark.className = "kept";
    mark.textContent = original.slice(start, span.end);
    if (typeof span.score === "number") {
      mark.title = `relevance ${span.score.toFixed(3)}`;
      mark.style.setProperty("--strength", hi > lo ? ((span.score - lo) / (hi - lo)).toFixed(3) : "1");
      mark.dataset.strength = hi > lo ? ((span.score - lo) / (hi - lo)).toFixed(3) : "1";
    }
    nodes.push(mark);
    pos = span.end;
  }
  if (pos < original.length) nodes.push(...gap(original.slice(pos)));
  container.replaceChildren(...nodes);
  resetJump();
}

// --- jumping between kept pieces ----------------------------------------------------------------------

let jumpIndex = -1;

function keptPieces() {
  return [...$("view").querySelectorAll("mark.kept")];
}

function resetJump() {
  jumpIndex = -1;
  const count = keptPieces().length;
  $("jump-kept").disabled = count === 0;
  setText("jump-position", count ? `${count} kept piece${count === 1 ? "" : "s"}` : "nothing kept");
}

function jumpToKept() {
  const pieces = keptPieces();
  if (!pieces.length) return;
  if (jumpIndex >= 0 && pieces[jumpIndex]) pieces[jumpIndex].classList.remove("current");
  jumpIndex = (jumpIndex + 1) % pieces.length;
  const piece = pieces[jumpIndex];
  piece.classList.add("current");
  // scroll only the view, not the page: the button stays where the pointer is
  const view = $("view");
  const top = piece.getBoundingClientRect().top - view.getBoundingClientRect().top + view.scrollTop;
  view.scrollTop = Math.max(0, top - view.clientHeight / 3);
  const relevance = piece.title ? `, ${piece.title}` : "";
  setText("jump-position", `piece ${jumpIndex + 1} of ${pieces.length}${relevance}`);
}

function gap(text) {
  if (!text.trim()) return [document.createTextNode(text)]; // whitespace between kept pieces is not "dropped"
  const del = document.createElement("del");
  del.className = "dropped";
  del.textContent = text;
  // Shown only while dropped text is hidden, so kept pieces never run into each other. Empty, with its label
  // in CSS: the view's text stays exactly the original.
  const separator = document.createElement("span");
  separator.className = "separator";
  separator.setAttribute("aria-hidden", "true");
  const words = text.trim().split(/\s+/).length;
  separator.dataset.dropped = `${words.toLocaleString()} word${words === 1 ? "" : "s"} dropped`;
  return [del, separator];
}

// --- wiring -------------------------------------------------------------------------------------------

function init() {
  fillModels();
  loadMethods();
  syncBudgetInputs();
  $("form").addEventListener("submit", run);
  $("budget-rate").addEventListener("change", syncBudgetInputs);
  $("budget-tokens").addEventListener("change", syncBudgetInputs);
  $("file").addEventListener("change", loadFile);
  $("sample").addEventListener("click", loadSample);
  $("jump-kept").addEventListener("click", jumpToKept);
  $("show-dropped").addEventListener("change", (e) => $("view").classList.toggle("hide-dropped", !e.target.checked));
  $("context").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $("form").requestSubmit();
    }
  });
  $("copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("output").value);
      status("Copied the compressed text.");
    } catch (_) {
      $("output").select();
      status("Select-all done: press Ctrl+C to copy.");
    }
  });
}

document.addEventListener("DOMContentLoaded", init);
