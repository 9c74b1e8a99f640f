// The screening view: shows one record, sends each decision once (with a request id that a
// retry reuses, so a decision survives a server restart and is never stored twice), and draws
// the progress panel from the server's answer.
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let shown = null; // the state last received
let busy = false;

function requestId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

function reviewer() {
  return $("reviewer").value.trim();
}

async function call(path, body) {
  // POST ``body`` (or GET when there is none); network failures are retried with the same body
  // until the server answers, refusals are shown.
  for (;;) {
    let response;
    try {
      response = await fetch(path, body ? { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : {});
    } catch (error) {
      $("message").textContent = "The server does not answer; retrying (nothing is lost)…";
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    $("message").textContent = "";
    return data;
  }
}

async function run(action) {
  if (busy) return;
  busy = true;
  document.body.dataset.busy = "1";
  try {
    render(await action());
  } catch (error) {
    $("message").textContent = error.message;
  } finally {
    busy = false;
    delete document.body.dataset.busy;
  }
}

function load(recordId) {
  if (!reviewer()) {
    $("message").textContent = "Type your name to start screening.";
    return;
  }
  const query = new URLSearchParams({ reviewer: reviewer() });
  if (recordId) query.set("record", recordId);
  run(() => call(`/api/state?${query}`));
}

function decide(label) {
  if (!shown || !shown.record) return;
  const body = {
    reviewer: reviewer(), record_id: shown.record.record_id, label, request: requestId(),
    expected: shown.record.expected, note: $("note").value, reason: label === "irrelevant" ? $("reason").value : "",
  };
  run(() => call("/api/decisions", body));
}

function undo() {
  run(() => call("/api/undo", { reviewer: reviewer(), request: requestId() }));
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  a.target = "_blank";
  a.rel = "noopener";
  return a;
}

function render(state) {
  shown = state;
  document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
  const record = state.record;
  $("mode").textContent = state.double ? "double screening (blinded)" : "";
  $("agreement-link").hidden = !state.double;
  $("record").hidden = !record;
  $("done").hidden = Boolean(record);
  document.body.dataset.record = record ? record.record_id : "";
  if (record) {
    $("title").innerHTML = record.title; // escaped by the server, terms marked
    $("abstract").innerHTML = record.abstract || "<em>no abstract</em>";
    $("year").textContent = record.year || "year unknown";
    $("journal").textContent = record.journal || "journal unknown";
    $("authors").textContent = record.authors;
    $("rank").textContent = record.rank ?? "–";
    $("record-id").textContent = record.record_id;
    const ids = $("identifiers");
    ids.replaceChildren();
    if (record.doi) ids.append(link(record.doi.startsWith("http") ? record.doi : `https://doi.org/${record.doi}`, `DOI ${record.doi.replace(/^https?:\/\/(dx\.)?doi\.org\//, "")}`), " ");
    if (record.pmid) ids.append(link(`https://pubmed.ncbi.nlm.nih.gov/${record.pmid}/`, `PMID ${record.pmid}`));
    if (!record.doi && !record.pmid) ids.textContent = "none";
    const decision = record.decision;
    $("current").textContent = decision ? `Your decision: ${decision.label}${decision.reason ? ` (${decision.reason})` : ""}; choose again to change it.` : "";
    $("note").value = decision ? decision.note : "";
    $("reason").value = decision ? decision.reason : "";
  }
  renderProgress(state.progress);
}

function renderProgress(p) {
  $("screened").textContent = p.screened;
  $("total").textContent = p.total;
  $("found").textContent = p.relevant;
  $("maybes").textContent = p.maybe;
  $("work-saved").textContent = `${(100 * p.work_saved).toFixed(1)} %`;
  const stop = p.stop;
  const target = `${Math.round(100 * stop.recall)} % recall`;
  $("stop-advice").textContent = stop.reached
    ? `The hypergeometric rule says stop: the ${target} target is reached with ${Math.round(100 * stop.confidence)} % confidence.`
    : `The hypergeometric rule says: screen at least ${stop.more} more records (if none is relevant) before stopping at ${target}.`;
  $("stop-run").textContent = `${stop.run} irrelevant in a row since the last relevant record (the heuristic stops at ${stop.consecutive}).`;
  $("model").textContent = `Order: ${p.model}.`;
  drawCurve(p.found);
  $("history").replaceChildren(...p.history.map((h) => {
    const item = document.createElement("li");
    const a = document.createElement("a");
    a.href = "#";
    a.textContent = h.title;
    a.onclick = (event) => { event.preventDefault(); load(h.record_id); };
    item.append(`${h.label}: `, a);
    return item;
  }));
}

function drawCurve(found) {
  const svg = $("curve");
  const n = found.length;
  const top = Math.max(1, found[n - 1] || 0);
  const x = (i) => 30 + (260 * i) / Math.max(1, n);
  const y = (v) => 140 - (130 * v) / top;
  const points = [[x(0), y(0)], ...found.map((v, i) => [x(i + 1), y(v)])].map((p) => p.map((c) => c.toFixed(1)).join(",")).join(" ");
  svg.innerHTML = `<line x1="30" y1="140" x2="290" y2="140" class="axis"/><line x1="30" y1="10" x2="30" y2="140" class="axis"/>
    <polyline points="${points}" class="found"/>
    <text x="160" y="156" text-anchor="middle">records screened (${n})</text><text x="34" y="22">relevant found</text>
    <text x="4" y="14">${top}</text><text x="4" y="140">0</text>`;
}

document.addEventListener("keydown", (event) => {
  if (event.target.tagName === "INPUT" || event.ctrlKey || event.metaKey || event.altKey) return;
  const action = { r: () => decide("relevant"), i: () => decide("irrelevant"), m: () => decide("maybe"), u: undo }[event.key.toLowerCase()];
  if (action) {
    event.preventDefault();
    action();
  }
});
$("relevant").onclick = () => decide("relevant");
$("irrelevant").onclick = () => decide("irrelevant");
$("maybe").onclick = () => decide("maybe");
$("undo").onclick = undo;
$("reviewer").value = params.get("reviewer") || localStorage.getItem("reviewer") || "";
$("reviewer").onchange = () => {
  localStorage.setItem("reviewer", reviewer());
  load();
};
load(params.get("record"));
