// The agreement page: kappa and raw agreement on the records both reviewers decided, and
// their conflicts, each resolved by a named person (the resolution is a decision of its own).
"use strict";

const $ = (id) => document.getElementById(id);

function cell(decision) {
  const td = document.createElement("td");
  td.textContent = [decision.label, decision.reason, decision.note].filter(Boolean).join(" · ");
  return td;
}

function render(report) {
  const [first, second] = report.reviewers;
  $("reviewers").textContent = report.reviewers.join(" and ") || "(fewer than two so far)";
  $("both").textContent = report.both;
  $("agreement").textContent = report.agreement === null ? "–" : report.agreement.toFixed(3);
  $("kappa").textContent = report.kappa === null ? "–" : report.kappa.toFixed(3);
  $("final").textContent = Object.entries(report.final).map(([label, n]) => `${n} ${label}`).join(", ") || "none yet";
  $("count").textContent = report.conflicts.length;
  $("first").textContent = first || "";
  $("second").textContent = second || "";
  document.body.dataset.conflicts = String(report.conflicts.length);
  $("conflicts").replaceChildren(...report.conflicts.map((conflict) => {
    const row = document.createElement("tr");
    row.dataset.record = conflict.record_id;
    const title = document.createElement("td");
    title.textContent = conflict.title;
    const actions = document.createElement("td");
    for (const label of ["relevant", "irrelevant"]) {
      const button = document.createElement("button");
      button.textContent = label;
      button.className = `resolve-${label}`;
      button.onclick = () => resolve(conflict.record_id, label);
      actions.append(button, " ");
    }
    row.append(title, cell(conflict[first]), cell(conflict[second]), actions);
    return row;
  }));
}

async function load() {
  const response = await fetch("/api/agreement");
  render(await response.json());
}

async function resolve(recordId, label) {
  const resolver = $("resolver").value.trim();
  if (!resolver) {
    $("message").textContent = "Name who resolves the conflict first.";
    return;
  }
  const request = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  const response = await fetch("/api/resolutions", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ resolver, record_id: recordId, label, request }),
  });
  const data = await response.json();
  if (!response.ok) {
    $("message").textContent = data.error;
    return;
  }
  $("message").textContent = "";
  render(data);
}

$("resolver").value = localStorage.getItem("resolver") || "";
$("resolver").onchange = () => localStorage.setItem("resolver", $("resolver").value.trim());
load();
