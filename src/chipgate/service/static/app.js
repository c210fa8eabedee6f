// The chipgate dashboard: every figure comes from the /v1 API, called with the key the user gives.
"use strict";

const KEY_STORE = "chipgate.apiKey";
const COLOURS = { used: "#1f5fa8", held: "#e0a100", available: "#9cc59f", limit: "#1d2430" };
const PLOT_CONFIG = { displaylogo: false, responsive: true };
let role = null;
let lastShipment = null;

function $(selector) { return document.querySelector(selector); }

function say(text) { $("#message").textContent = text || ""; }

function apiKey() { return localStorage.getItem(KEY_STORE) || ""; }

async function api(path, options = {}) {
  const headers = { "X-API-Key": apiKey() };
  const init = { method: options.method || "GET", headers };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch("/v1" + path, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error(describeError(response.status, data));
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}

function describeError(status, data) {
  if (data && Array.isArray(data.detail)) {
    return data.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  }
  if (data && data.detail) { return `${status} ${data.code || ""}: ${data.detail}`; }
  return `HTTP ${status}`;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "–" : String(text);
  if (className) { td.className = className; }
  row.appendChild(td);
  return td;
}

function number(value) { return value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US"); }

// ---- balances ---------------------------------------------------------------------------

async function loadBalances() {
  const balances = await api("/balances");
  const body = $("#balances-table tbody");
  body.replaceChildren();
  for (const b of balances) {
    const row = document.createElement("tr");
    row.dataset.authorization = b.authorization;
    cell(row, b.authorization);
    cell(row, b.kind);
    cell(row, number(b.limit), "num limit");
    cell(row, number(b.used), "num used");
    cell(row, number(b.held), "num held");
    cell(row, number(b.available), "num available");
    cell(row, b.revoked ? "revoked" : b.basis);
    body.appendChild(row);
  }
  const ids = balances.map((b) => b.authorization);
  const bar = (name, values, colour) => ({
    type: "bar", orientation: "h", name, y: ids, x: values, marker: { color: colour },
    hovertemplate: `%{y}<br>${name}: %{x:,}<extra></extra>`,
  });
  const traces = [
    bar("used", balances.map((b) => b.used), COLOURS.used),
    bar("held", balances.map((b) => b.held), COLOURS.held),
    bar("available", balances.map((b) => b.available ?? 0), COLOURS.available),
    {
      type: "scatter", mode: "markers", name: "limit", y: ids, x: balances.map((b) => b.limit),
      marker: { symbol: "line-ns-open", size: 18, color: COLOURS.limit, line: { width: 2 } },
      hovertemplate: "%{y}<br>limit: %{x:,}<extra></extra>",
    },
  ];
  await Plotly.react("balances-chart", traces, {
    barmode: "stack", margin: { l: 190, r: 20, t: 10, b: 40 }, xaxis: { title: "units", tickformat: "," },
    yaxis: { autorange: "reversed" }, legend: { orientation: "h", y: -0.15 },
  }, PLOT_CONFIG);
  return balances;
}

// ---- pooled approval by company ---------------------------------------------------------

async function loadPool() {
  const id = $("#pool-select").value;
  if (!id) { return; }
  const a = await api(`/authorizations/${encodeURIComponent(id)}/allocation`);
  const traces = [];
  a.companies.forEach((c, i) => {
    const shade = ["#1f5fa8", "#6b4fa8", "#0f8a8a", "#a8551f", "#5a7d1f"][i % 5];
    traces.push({ type: "bar", orientation: "h", name: `${c.company} shipped`, y: ["drawn"], x: [c.used],
      marker: { color: shade }, hovertemplate: `${c.company} shipped: %{x:,}<extra></extra>` });
    traces.push({ type: "bar", orientation: "h", name: `${c.company} held`, y: ["drawn"], x: [c.held],
      marker: { color: shade, opacity: 0.45 }, hovertemplate: `${c.company} held: %{x:,}<extra></extra>` });
  });
  if (a.available !== null) {
    traces.push({ type: "bar", orientation: "h", name: "available", y: ["drawn"], x: [a.available],
      marker: { color: "#d9dee5" }, hovertemplate: "available: %{x:,}<extra></extra>" });
  }
  const title = a.limit === null ? `${id}: limit not published` : `${id}: ${number(a.limit)} units in total`;
  await Plotly.react("pool-chart", traces, {
    barmode: "stack", title: { text: title, font: { size: 13 } }, margin: { l: 60, r: 20, t: 40, b: 40 },
    xaxis: { tickformat: ",", title: "units" }, legend: { orientation: "h", y: -0.3 }, height: 300,
  }, PLOT_CONFIG);
}

// ---- the volume cap over time -----------------------------------------------------------

async function loadCap() {
  const id = $("#cap-select").value;
  if (!id) { return; }
  const s = await api(`/authorizations/${encodeURIComponent(id)}/series`);
  const dates = s.points.map((p) => p.date);
  const line = (name, values, colour, dash) => ({
    type: "scatter", mode: "lines+markers", line: { shape: "hv", color: colour, dash: dash || "solid" },
    name, x: dates, y: values, hovertemplate: `%{x}<br>${name}: %{y:,}<extra></extra>`,
  });
  await Plotly.react("cap-chart", [
    line("US end-user shipments", s.points.map((p) => p.us_shipped), "#8a96a3", "dot"),
    line("cap (share of US shipments)", s.points.map((p) => p.limit), COLOURS.limit),
    line("China: shipped + held", s.points.map((p) => p.used + p.held), COLOURS.held),
    line("China: shipped", s.points.map((p) => p.used), COLOURS.used),
  ], {
    margin: { l: 70, r: 20, t: 10, b: 40 }, yaxis: { tickformat: ",", title: "units" },
    legend: { orientation: "h", y: -0.2 },
  }, PLOT_CONFIG);
}

// ---- policy timeline --------------------------------------------------------------------

function periodsToBars(rowName, periods, label) {
  const end = new Date();
  end.setFullYear(end.getFullYear() + 1);
  const palette = {};
  const colours = ["#1f5fa8", "#e0a100", "#b3261e", "#2e7d32", "#6b4fa8", "#0f8a8a", "#a8551f"];
  return periods.map((p) => {
    const text = label(p);
    if (!(text in palette)) { palette[text] = colours[Object.keys(palette).length % colours.length]; }
    const start = new Date(p.from + "T00:00:00Z");
    const until = p.until ? new Date(p.until + "T00:00:00Z") : end;
    const basis = [...new Set(p.reasons.map((r) => r.citation + (r.effective_from ? ` (${r.effective_from})` : "")))];
    return {
      type: "bar", orientation: "h", y: [rowName], base: [p.from], x: [until - start], showlegend: false,
      marker: { color: palette[text], line: { color: "#fff", width: 1 } }, text: [text], textposition: "inside",
      insidetextanchor: "middle",
      hovertext: [`${p.from} to ${p.until || "now"}: ${text}<br>${basis.slice(0, 4).join("<br>")}`],
      hoverinfo: "text",
    };
  });
}

async function loadTimeline(event) {
  if (event) { event.preventDefault(); }
  const chip = $("#timeline-chip").value;
  const to = $("#timeline-to").value.trim();
  if (!chip) { return; }
  const classification = await api(`/timeline/${encodeURIComponent(chip)}`);
  const traces = periodsToBars("ECCN", classification.periods, (p) => p.eccn || "not 3A090");
  if (to) {
    const decision = await api(`/timeline/${encodeURIComponent(chip)}?to=${encodeURIComponent(to)}`);
    traces.push(...periodsToBars(`export to ${to.toUpperCase()}`, decision.periods,
      (p) => p.outcome.replace("_", " ") + (p.review_policy ? `, ${p.review_policy.replaceAll("_", " ")}` : "")));
  }
  await Plotly.react("timeline-chart", traces, {
    barmode: "overlay", margin: { l: 110, r: 20, t: 10, b: 40 }, xaxis: { type: "date" },
    yaxis: { autorange: "reversed" }, height: 260,
  }, PLOT_CONFIG);
}

// ---- deciding and reserving -------------------------------------------------------------

function shipmentFromForm(form) {
  const f = new FormData(form);
  const text = (name) => (f.get(name) || "").toString().trim();
  const shipment = {
    date: text("date"), kind: text("kind"), from_country: text("from_country").toUpperCase(),
    to_country: text("to_country").toUpperCase(), item: { chip: text("chip") },
    quantity: Number(text("quantity")),
    consignee: { name: text("consignee"), country: text("consignee_country").toUpperCase() },
    end_use: text("end_use"),
  };
  if (text("unit_value_usd")) { shipment.unit_value_usd = Number(text("unit_value_usd")); }
  if (text("exporter")) { shipment.exporter = text("exporter"); }
  if (text("end_user")) { shipment.end_user = { name: text("end_user"), country: shipment.consignee.country }; }
  return shipment;
}

async function decide(event) {
  event.preventDefault();
  say("");
  const shipment = shipmentFromForm(event.target);
  let d;
  try {
    d = await api("/decide?check=true", { method: "POST", body: shipment });
  } catch (error) {
    say(error.message);
    return;
  }
  lastShipment = shipment;
  $("#decision").hidden = false;
  const outcome = $("#decision-outcome");
  outcome.textContent = d.outcome.replace("_", " ");
  outcome.className = `outcome-${d.outcome}`;
  $("#decision-eccn").textContent = `${d.eccn || "not 3A090"} · TPP ${number(Math.round(d.tpp))}`;
  const coverage = [];
  if (d.covered_by.length) { coverage.push(`covered by ${d.covered_by.join(", ")}`); }
  if (d.missing.length) { coverage.push(`missing: ${d.missing.join("; ")}`); }
  $("#decision-coverage").textContent = coverage.join(" · ");
  const body = $("#reasons-table tbody");
  body.replaceChildren();
  d.reasons.forEach((r, i) => {
    const row = document.createElement("tr");
    cell(row, i + 1);
    cell(row, r.rule).className = "hash";
    cell(row, r.citation).className = "citation";
    cell(row, r.effective_from);
    cell(row, r.text);
    body.appendChild(row);
  });
  $("#reserve-key").value = `web-${crypto.randomUUID()}`;
  $("#reserve-result").textContent = "";
  const canReserve = role === "officer" || role === "admin";
  $("#reserve-button").disabled = !canReserve || d.outcome === "blocked";
  $("#reserve-button").title = canReserve ? "" : "reserving needs an officer key";
}

async function reserve(event) {
  event.preventDefault();
  const result = $("#reserve-result");
  if (!lastShipment) { return; }
  try {
    const r = await api("/reservations", { method: "POST", body: { key: $("#reserve-key").value, shipment: lastShipment } });
    result.className = "ok";
    result.textContent = `${r.status}: ${number(r.quantity)} units held on ${r.legs.map((l) => l.authorization).join(", ")}`;
  } catch (error) {
    result.className = "bad";
    result.textContent = error.message;
    return;
  }
  await refreshLedger();
}

// ---- screening a party ------------------------------------------------------------------

let screenSeq = 0;

function features(f) {
  return Object.entries(f || {}).map(([name, value]) => `${name} ${Number(value).toFixed(2)}`).join(", ");
}

function showScreenError(error) {
  const box = $("#screen-error");
  box.textContent = error ? error.message : "";
  box.hidden = !error;
  // A 422 names the field in `loc` (["body", "country"]): mark that input.
  const detail = error && error.data && Array.isArray(error.data.detail) ? error.data.detail : [];
  const fields = detail.map((d) => (d.loc || [])[1]);
  for (const [field, input] of [["name", "#screen-name"], ["country", "#screen-country"]]) {
    $(input).setAttribute("aria-invalid", fields.includes(field) ? "true" : "false");
  }
}

async function screenParty(event) {
  event.preventDefault();
  const seq = ++screenSeq;
  const request = { name: $("#screen-name").value };
  const country = $("#screen-country").value.trim();
  if (country) { request.country = country; }
  const button = $("#screen-button");
  const summary = $("#screen-summary");
  const table = $("#screen-table");
  button.disabled = true;
  $("#screen-result").setAttribute("aria-busy", "true");
  let s;
  try {
    s = await api("/screen", { method: "POST", body: request });
  } catch (error) {
    if (seq !== screenSeq) { return; }
    showScreenError(error);
    summary.textContent = "";
    table.hidden = true;
    return;
  } finally {
    if (seq === screenSeq) {
      button.disabled = false;
      $("#screen-result").removeAttribute("aria-busy");
    }
  }
  if (seq !== screenSeq) { return; }
  showScreenError(null);
  const snapshot = `snapshot ${s.snapshot.id} (${s.snapshot.date})`;
  const thresholds = `match ≥ ${s.thresholds.match}, possible ≥ ${s.thresholds.possible}`;
  const party = `“${s.query}”${s.country ? ` (${s.country})` : ""}`;
  const rows = table.tBodies[0];
  rows.replaceChildren();
  if (!s.hits.length) {
    summary.textContent = `No hits on ${snapshot} for ${party} · thresholds ${thresholds} · matcher ${s.matcher}`;
    summary.className = "clear";
    table.hidden = true;
    return;
  }
  const matches = s.hits.filter((h) => h.strength === "match").length;
  const counts = `${matches} match${matches === 1 ? "" : "es"}, ${s.hits.length - matches} possible`;
  summary.textContent = `${counts} for ${party} on ${snapshot} · thresholds ${thresholds} · matcher ${s.matcher}`;
  summary.className = matches ? "bad" : "";
  s.hits.forEach((h, i) => {
    const row = document.createElement("tr");
    row.className = `hit-${h.strength}`;
    row.dataset.recordId = h.record_id;
    row.dataset.strength = h.strength;
    cell(row, i + 1, "num rank");
    cell(row, Number(h.score).toFixed(4), "num score");
    const strength = document.createElement("span");
    strength.className = `strength strength-${h.strength}`;
    strength.textContent = h.strength;
    cell(row, "", "strength-cell").replaceChildren(strength);
    cell(row, h.list, "list").title = h.list_name;
    cell(row, h.name, "listed");
    cell(row, h.matched_name, "matched");
    cell(row, h.countries.length ? h.countries.join(", ") : null, "countries");
    cell(row, features(h.features), "features");
    rows.appendChild(row);
  });
  table.hidden = false;
}

// ---- journal ----------------------------------------------------------------------------

async function loadJournal(event) {
  if (event) { event.preventDefault(); }
  const params = new URLSearchParams({ newest_first: "true", limit: "50" });
  for (const [name, value] of new FormData($("#journal-form"))) {
    if (value.toString().trim()) { params.set(name, value.toString().trim()); }
  }
  const entries = await api(`/journal?${params}`);
  const body = $("#journal-table tbody");
  body.replaceChildren();
  for (const e of entries) {
    const row = document.createElement("tr");
    cell(row, e.seq, "num");
    cell(row, e.at.replace("T", " ").slice(0, 19));
    cell(row, e.actor, "actor");
    cell(row, e.op);
    cell(row, e.subject);
    cell(row, e.hash.slice(0, 12) + "…", "hash");
    body.appendChild(row);
  }
}

// ---- start ------------------------------------------------------------------------------

function fillSelect(select, values, preferred) {
  select.replaceChildren();
  for (const v of values) {
    const option = document.createElement("option");
    option.value = v;
    option.textContent = v;
    select.appendChild(option);
  }
  if (preferred && values.includes(preferred)) { select.value = preferred; }
}

async function refreshLedger() {
  await loadBalances();
  await Promise.all([loadPool(), loadCap(), loadJournal()]);
}

async function start() {
  say("");
  if (!apiKey()) {
    $("#whoami").textContent = "paste an API key to start";
    return;
  }
  try {
    const me = await api("/whoami");
    role = me.role;
    $("#whoami").textContent = `${me.name} (${me.role})`;
    const [chips, authorizations] = await Promise.all([api("/chips"), api("/authorizations")]);
    const chipIds = chips.map((c) => c.id);
    fillSelect($("#timeline-chip"), chipIds, "nvidia-h200-sxm");
    fillSelect($("#decide-chip"), chipIds, "nvidia-h200-sxm");
    const pools = authorizations.filter((a) => a.kind === "cn_import_approval");
    pools.sort((a, b) => (b.quantity || 0) - (a.quantity || 0));
    fillSelect($("#pool-select"), pools.map((a) => a.id));
    fillSelect($("#cap-select"), authorizations.filter((a) => a.kind === "derived_volume_cap").map((a) => a.id));
    await refreshLedger();
    await loadTimeline();
  } catch (error) {
    role = null;
    $("#whoami").textContent = error.status === 401 ? "key refused" : "error";
    say(error.message);
  }
}

$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  localStorage.setItem(KEY_STORE, $("#api-key").value.trim());
  $("#api-key").value = "";
  start();
});
$("#pool-select").addEventListener("change", loadPool);
$("#cap-select").addEventListener("change", loadCap);
$("#timeline-form").addEventListener("submit", loadTimeline);
$("#decide-form").addEventListener("submit", decide);
$("#reserve-form").addEventListener("submit", reserve);
$("#screen-form").addEventListener("submit", screenParty);
$("#journal-form").addEventListener("submit", loadJournal);
window.addEventListener("error", (event) => say(event.message));
start();
