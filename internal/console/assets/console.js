// roomd console: a client of roomd's REST API (/v4/…), signed with the App admin's UserSig
// as any REST client is. No build step, no dependencies.

const $ = (sel) => document.querySelector(sel);
const CREDS_KEY = "roomd-console-credentials";

// ---------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function fmtTime(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function fmtAge(seconds) {
  if (seconds < 1) return "0 s";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function pretty(text) {
  if (text === undefined || text === null) return "";
  if (typeof text !== "string") return JSON.stringify(text, null, 2);
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

// datetime-local value (local time) → Unix seconds, or 0.
function unixOf(input) {
  if (!input.value) return 0;
  const t = new Date(input.value).getTime();
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

function dl(target, pairs) {
  target.replaceChildren();
  for (const [k, v, id] of pairs) {
    target.append(el("dt", { text: k }), el("dd", { id, text: v === undefined || v === null || v === "" ? "—" : String(v) }));
  }
}

function renderRequest(req) {
  if (!req) return "Not sent yet.";
  const head = Object.entries(req.Headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  return `${req.Method} ${req.URL}\n${head}\n\n${pretty(req.Body)}`;
}

// ---------------------------------------------------------------- API

class APIError extends Error {
  constructor(code, info) {
    super(`Error ${code}: ${info}`);
    this.code = code;
    this.info = info;
  }
}

let creds = null;

async function call(api, body = {}) {
  const q = new URLSearchParams({
    sdkappid: creds.sdkappid, identifier: creds.identifier, usersig: creds.usersig,
    random: String(Math.floor(Math.random() * 4294967295)), contenttype: "json",
  });
  let resp;
  try {
    resp = await fetch(`/v4/${api}?${q}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (e) {
    throw new APIError("network", `roomd did not answer (${e.message})`);
  }
  let env;
  try { env = await resp.json(); } catch { throw new APIError(`HTTP ${resp.status}`, resp.statusText || "not a JSON reply"); }
  if (env.ErrorCode !== 0) throw new APIError(env.ErrorCode, env.ErrorInfo || env.ActionStatus);
  return env.Response ?? env;
}

function showError(err) {
  const box = $("#error");
  if (!err) { box.hidden = true; box.textContent = ""; return; }
  box.textContent = err instanceof APIError ? err.message : `Error: ${err.message || err}`;
  box.hidden = false;
}

let noticeTimer = 0;
function notice(text) {
  $("#notice").textContent = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { $("#notice").textContent = ""; }, 6000);
}

// run wraps a user action: clears the error, shows a failure's Tencent code and text.
async function run(fn) {
  showError(null);
  try { return await fn(); } catch (e) { showError(e); return undefined; }
}

// ---------------------------------------------------------------- login and routing

function readCreds() {
  const h = location.hash.replace(/^#/, "");
  if (h.includes("usersig=")) {
    const p = new URLSearchParams(h);
    const c = { sdkappid: p.get("sdkappid") || "", identifier: p.get("identifier") || "", usersig: p.get("usersig") || "" };
    // The credentials leave the address bar (and the history) at once.
    history.replaceState(null, "", location.pathname + location.search + "#callbacks");
    if (c.sdkappid && c.identifier && c.usersig) return c;
  }
  try { return JSON.parse(sessionStorage.getItem(CREDS_KEY)); } catch { return null; }
}

async function login(c) {
  creds = c;
  try {
    settings = await call("roomd_delivery/get_settings");
  } catch (e) {
    creds = null;
    sessionStorage.removeItem(CREDS_KEY);
    throw e;
  }
  sessionStorage.setItem(CREDS_KEY, JSON.stringify(c));
  $("#who").textContent = `App ${c.sdkappid} · ${c.identifier}`;
  fillCommandSelects();
}

function logout() {
  sessionStorage.removeItem(CREDS_KEY);
  creds = null;
  location.hash = "";
  route();
}

let page = "";
function route() {
  showError(null);
  const [name, arg] = decodeURIComponent(location.hash.replace(/^#/, "")).split("/", 2).concat([""]).slice(0, 2);
  const want = creds ? (["callbacks", "rooms", "apps"].includes(name) ? name : "callbacks") : "login";
  for (const s of document.querySelectorAll(".page")) s.hidden = s.id !== `page-${want}`;
  $("#nav").hidden = $("#who").hidden = $("#logout").hidden = !creds;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.page === want) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const entering = page !== want;
  page = want;
  if (want === "callbacks") {
    if (arg) openEvent(Number(arg)); else closeEvent(false);
    if (entering) pollNow();
  } else if (want === "rooms") {
    if (entering) loadRooms(false);
    if (arg) openRoom(arg); else closeRoom(false);
  } else if (want === "apps") {
    if (entering) loadApp();
  }
}

// ---------------------------------------------------------------- Callbacks

let settings = null;
let openEventId = 0;
let olderCursor = 0;
let knownIds = new Set();
let pollBusy = false;
let statsAt = 0;

function filterBody() {
  const b = {};
  const room = $("#filter-room").value.trim();
  if (room) b.RoomId = room;
  if ($("#filter-command").value) b.CallbackCommand = $("#filter-command").value;
  if ($("#filter-state").value) b.State = $("#filter-state").value;
  const since = unixOf($("#filter-since")), until = unixOf($("#filter-until"));
  if (since) b.Since = since;
  if (until) b.Until = until;
  return b;
}

function eventRow(e, fresh) {
  const tr = el("tr", { "data-event-id": e.EventId, class: [fresh ? "new" : "", e.EventId === openEventId ? "selected" : ""].join(" ").trim() || undefined },
    el("td", {}, el("button", { type: "button", class: "link", "aria-label": `Open callback ${e.EventId}: ${e.CallbackCommand}`, onclick: () => { location.hash = `callbacks/${e.EventId}`; } }, `#${e.EventId}`)),
    el("td", { class: "mono", text: fmtTime(e.CreateTime) }),
    el("td", { class: "wrap", text: e.RoomId }),
    el("td", { class: "wrap", text: e.CallbackCommand }),
    el("td", { class: `state state-${e.State}`, text: e.State }),
    el("td", { text: e.Attempts }),
    el("td", { class: "wrap", text: e.LastError || "" }));
  return tr;
}

// The rows on screen by event id, with what they show: a poll that finds an event unchanged
// keeps its row (and the keyboard focus or a click on it) in place.
let rowCache = new Map();

async function pollEvents() {
  const r = await call("roomd_delivery/list_events", { ...filterBody(), Limit: 50 });
  const tbody = $("#events tbody");
  const first = knownIds.size === 0;
  if (first) rowCache = new Map();
  const cache = new Map();
  const rows = r.Events.map((e) => {
    const key = JSON.stringify([e.CreateTime, e.RoomId, e.CallbackCommand, e.State, e.Attempts, e.LastError || ""]);
    const had = rowCache.get(e.EventId);
    const tr = had && had.key === key ? had.tr : eventRow(e, !first && !knownIds.has(e.EventId));
    cache.set(e.EventId, { key, tr });
    return tr;
  });
  rowCache = cache;
  knownIds = new Set(r.Events.map((e) => e.EventId));
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 7, class: "empty", text: "No callbacks match." })));
  // Move only what changed: a row already in its place is not touched.
  rows.forEach((tr, i) => { if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null); });
  while (tbody.children.length > rows.length) tbody.lastElementChild.remove();
  olderCursor = r.NextBeforeId || 0;
  $("#events-more").hidden = !olderCursor;
}

async function loadOlder() {
  if (!olderCursor) return;
  const r = await call("roomd_delivery/list_events", { ...filterBody(), Limit: 50, BeforeId: olderCursor });
  for (const e of r.Events) $("#events tbody").append(eventRow(e, false));
  olderCursor = r.NextBeforeId || 0;
  $("#events-more").hidden = !olderCursor;
}

function fmtRate(perSecond) {
  return perSecond > 0 ? `${perSecond}/s` : "none";
}

function fmtDuration(ms) {
  if (!ms) return "none";
  if (ms % 3600000 === 0) return `${ms / 3600000} h`;
  if (ms % 60000 === 0) return `${ms / 60000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

// pollAppState shows how the dispatcher treats the app now (roomd_delivery/get_app_state):
// its circuit breaker, the rooms it holds and its rate limit.
async function pollAppState() {
  const a = await call("roomd_delivery/get_app_state");
  const breaker = $("#state-breaker");
  breaker.textContent = a.Breaker;
  breaker.dataset.state = a.Breaker;
  $("#state-paused").textContent = a.PausedRooms;
  $("#state-waiting").textContent = a.WaitingRooms;
  $("#state-rate").textContent = fmtRate(settings?.MaxPerSecond || 0);
  const parts = [];
  if (a.Breaker === "closed") {
    const limit = settings?.BreakerFailures;
    parts.push(limit ? `Delivering. ${a.ConsecutiveFailures} consecutive failed attempt${a.ConsecutiveFailures === 1 ? "" : "s"} (the breaker opens at ${limit}).`
      : "Delivering. The circuit breaker is switched off.");
  } else {
    parts.push(`Paused since ${fmtTime(a.OpenedTime)} after ${a.ConsecutiveFailures} consecutive failed attempts: callbacks are kept and wait.`);
    parts.push(a.Breaker === "probing" ? "A probe is being sent now." : `Next probe at ${fmtTime(a.NextProbeTime)}; the rooms resume as soon as one succeeds.`);
  }
  parts.push(`${a.Events} undelivered in memory, ${a.InFlight} in flight.`);
  if (a.Opened) parts.push(`Opened ${a.Opened} time${a.Opened === 1 ? "" : "s"} since roomd started (${a.Probes} probes, ${a.ProbesFailed} failed).`);
  if (a.RateLimited) parts.push(`Waited ${a.RateLimited} time${a.RateLimited === 1 ? "" : "s"} for the rate limit.`);
  if (a.HoldExpired) parts.push(`${a.HoldExpired} dead after the room hold bound.`);
  const text = parts.join(" ");
  // Only a change is announced (the paragraph is a live region).
  if ($("#state-detail").textContent !== text) $("#state-detail").textContent = text;
}

async function pollStats() {
  const s = await call("roomd_delivery/stats", { BucketSeconds: 60 });
  $("#stat-depth").textContent = s.QueueDepth;
  $("#stat-age").textContent = s.OldestPendingTime ? fmtAge(s.OldestPendingAgeSeconds) : "none";
  $("#stat-delivered").textContent = s.Delivered;
  $("#stat-dead").textContent = s.Dead;
  drawChart(s);
}

function drawChart(s) {
  const NS = "http://www.w3.org/2000/svg";
  const W = 600, H = 120, top = 8, bottom = 0;
  const now = Date.now();
  const step = s.BucketSeconds * 1000;
  const start = Math.floor((s.Since * 1000) / step) * step;
  const n = Math.max(1, Math.ceil((now - start) / step));
  const byTime = new Map(s.Buckets.map((b) => [b.Time, b]));
  let peak = 1;
  for (const b of s.Buckets) peak = Math.max(peak, b.Delivered + b.Failed);
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  const total = s.Buckets.reduce((a, b) => [a[0] + b.Delivered, a[1] + b.Failed], [0, 0]);
  svg.setAttribute("aria-label", `Attempts per minute over the last 30 minutes: ${total[0]} delivered, ${total[1]} failed; busiest minute ${peak}.`);
  const bw = W / n;
  const scale = (H - top - bottom) / peak;
  for (let i = 0; i < n; i++) {
    const b = byTime.get(start + i * step);
    if (!b) continue;
    const x = i * bw + 1, w = Math.max(1, bw - 2);
    const hOk = b.Delivered * scale, hBad = b.Failed * scale;
    const base = H - bottom;
    const mk = (cls, y, h, label) => {
      const r = document.createElementNS(NS, "rect");
      r.setAttribute("class", cls); r.setAttribute("x", x); r.setAttribute("y", y); r.setAttribute("width", w); r.setAttribute("height", Math.max(h, 0));
      const t = document.createElementNS(NS, "title"); t.textContent = label; r.append(t);
      svg.append(r);
    };
    const when = fmtTime(b.Time).slice(11, 16);
    if (hOk) mk("bar-ok", base - hOk, hOk, `${when}: ${b.Delivered} delivered`);
    if (hBad) mk("bar-bad", base - hOk - hBad, hBad, `${when}: ${b.Failed} failed`);
  }
  const axis = el("div", { class: "axis", "aria-hidden": "true" },
    el("span", { text: fmtTime(start).slice(11, 16) }), el("span", { text: `busiest minute: ${peak}` }), el("span", { text: "now" }));
  $("#chart").replaceChildren(svg, axis);
}

async function openEvent(id) {
  if (!id) return;
  openEventId = id;
  for (const tr of document.querySelectorAll("#events tbody tr")) tr.classList.toggle("selected", Number(tr.dataset.eventId) === id);
  $("#event-detail").hidden = false;
  await run(() => refreshEvent(true));
}

function closeEvent(navigate = true) {
  openEventId = 0;
  $("#event-detail").hidden = true;
  for (const tr of document.querySelectorAll("#events tbody tr.selected")) tr.classList.remove("selected");
  if (navigate) location.hash = "callbacks";
}

async function refreshEvent(focus) {
  const id = openEventId;
  if (!id) return;
  const r = await call("roomd_delivery/get_event", { EventId: id });
  if (id !== openEventId) return;
  const e = r.Event;
  $("#event-title").textContent = `Callback #${e.EventId} · ${e.CallbackCommand}`;
  dl($("#event-meta"), [
    ["State", e.State, "event-state"], ["Room", e.RoomId], ["webhook-id", e.WebhookId], ["Created", fmtTime(e.CreateTime)],
    ["Attempts", e.Attempts, "event-attempts"], ["Delivered", fmtTime(e.DeliveredTime)], ["Next attempt", fmtTime(e.NextAttemptTime)],
    ["Last error", e.LastError],
  ]);
  $("#event-request").textContent = renderRequest(r.Request);
  const rows = r.Attempts.map((a) => el("tr", { "data-attempt": a.Attempt },
    el("td", { text: a.Attempt }),
    el("td", { class: "mono", text: fmtTime(a.StartTime) }),
    el("td", { class: a.Error ? "state state-dead" : "state state-delivered", text: a.StatusCode || "—" }),
    el("td", { text: `${a.DurationMs} ms` }),
    el("td", { class: "wrap" }, el("pre", { class: "mono", text: pretty(a.Response) })),
    el("td", { class: "wrap", text: a.Error || "" })));
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 6, class: "empty", text: "No attempt yet." })));
  $("#attempts tbody").replaceChildren(...rows);
  const before = settings?.Commands?.find((c) => c.Command === e.CallbackCommand)?.Kind === "Before";
  const resend = $("#event-resend");
  resend.disabled = before || !(e.State === "delivered" || e.State === "dead");
  resend.title = before ? "Before-callbacks decide an operation and are never sent again" : "";
  if (focus) $("#event-title").setAttribute("tabindex", "-1");
}

async function resendOpen() {
  const id = openEventId;
  await run(async () => {
    await call("roomd_delivery/resend_event", { EventId: id });
    notice(`Callback #${id} queued again.`);
    await refreshEvent(false);
  });
}

async function redrive(state, since) {
  await run(async () => {
    const body = { State: state };
    const room = $("#filter-room").value.trim();
    if (room) body.RoomId = room;
    if (since) body.Since = since;
    const r = await call("roomd_delivery/redrive", body);
    notice(`${r.Requeued} callback${r.Requeued === 1 ? "" : "s"} queued again.`);
    pollNow();
  });
}

let pollTimer = 0;
async function pollNow() {
  if (page !== "callbacks" || !creds || pollBusy) return;
  pollBusy = true;
  try {
    await pollEvents();
    await pollAppState();
    if (openEventId) await refreshEvent(false);
    if (Date.now() - statsAt > 2500) { statsAt = Date.now(); await pollStats(); }
    if ($("#error").dataset.poll) showError(null);
  } catch (e) {
    showError(e);
    $("#error").dataset.poll = "1";
  } finally {
    pollBusy = false;
  }
}

function startPolling() {
  clearInterval(pollTimer);
  // Twice a second, so a new callback shows within a second of its commit.
  pollTimer = setInterval(() => { if ($("#live").checked && !document.hidden) pollNow(); }, 500);
}

function fillCommandSelects() {
  const cmds = settings?.Commands || [];
  const filter = $("#filter-command");
  const keep = filter.value;
  filter.replaceChildren(el("option", { value: "", text: "any command" }), ...cmds.filter((c) => c.Kind !== "Switch").map((c) => el("option", { value: c.Command, text: c.Command })));
  filter.value = keep;
  const test = $("#test-command");
  test.replaceChildren(...cmds.filter((c) => c.Kind !== "Switch").map((c) => el("option", { value: c.Command, text: c.Command })));
  test.value = "Live.CallbackAfterChangeOwner";
}

// ---------------------------------------------------------------- Rooms

let roomsNext = "";
let openRoomId = "";

async function loadRooms(more) {
  await run(async () => {
    const r = await call("live_engine_http_srv/get_room_list", more ? { Next: roomsNext } : {});
    const rows = (r.RoomList || []).map((x) => el("tr", { "data-room-id": x.RoomId },
      el("td", {}, el("button", { type: "button", class: "link", "aria-label": `Open room ${x.RoomId}`, onclick: () => { location.hash = `rooms/${encodeURIComponent(x.RoomId)}`; } }, x.RoomId)),
      el("td", { class: "wrap", text: x.RoomName }),
      el("td", { text: x.Owner_Account }),
      el("td", { text: x.MemberCount }),
      el("td", { class: "mono", text: fmtTime(x.CreateTime * 1000) })));
    const tbody = $("#rooms tbody");
    if (more) tbody.append(...rows);
    else tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 5, class: "empty", text: "No rooms." }))]));
    roomsNext = r.Next || "";
    $("#rooms-more").hidden = !roomsNext;
  });
}

function closeRoom(navigate = true) {
  openRoomId = "";
  $("#room-detail").hidden = true;
  $("#destroy-confirm").hidden = true;
  if (navigate) location.hash = "rooms";
}

function list(target, items, empty = "None.") {
  target.replaceChildren(...(items.length ? items.map((t) => el("li", { text: t })) : [el("li", { class: "empty", text: empty })]));
}

async function openRoom(id) {
  openRoomId = id;
  $("#room-detail").hidden = false;
  $("#destroy-confirm").hidden = true;
  $("#room-title").textContent = `Room ${id}`;
  await run(() => refreshRoom());
}

async function refreshRoom() {
  const id = openRoomId;
  const body = { RoomId: id };
  let info;
  try {
    info = (await call("live_engine_http_srv/get_room_info", body)).RoomInfo;
  } catch (e) {
    $("#room-info").replaceChildren();
    throw e;
  }
  dl($("#room-info"), [
    ["Owner", info.Owner_Account, "room-owner"], ["Name", info.RoomName], ["Type", info.RoomType],
    ["Created", fmtTime(info.CreateTime * 1000)], ["Members", `${info.MemberCount} (${info.OnlineCount} online)`],
    ["Seats", info.IsSeatEnabled ? `${info.MaxSeatCount}, ${info.TakeSeatMode}` : "off"],
    ["Messages disabled", info.IsMessageDisabled ? "yes" : "no"], ["Notice", info.Notice], ["Custom info", info.CustomInfo],
  ]);
  const settle = (p) => p.then((v) => ({ v }), (e) => ({ e }));
  const [admins, members, muted, banned, seats, meta, msgs] = await Promise.all([
    settle(call("live_engine_http_srv/get_admin_list", body)),
    settle(call("live_engine_http_srv/get_member_list", body)),
    settle(call("live_engine_http_srv/get_muted_member_list", body)),
    settle(call("live_engine_http_srv/get_banned_member_list", body)),
    settle(call("room_engine_http_mic/get_seat_list", body)),
    settle(call("live_engine_http_srv/get_room_metadata", body)),
    settle(call("roomd_room/get_recent_msgs", { RoomId: id, Limit: 20 })),
  ]);
  const fail = (r) => (r.e ? [`${r.e.message}`] : null);
  list($("#room-admins"), fail(admins) || admins.v.Admin_Account || []);
  list($("#room-members"), fail(members) || (members.v.MemberList || []).map((m) => m.Member_Account), "Nobody is in the room.");
  list($("#room-muted"), fail(muted) || (muted.v.MutedAccountList || []).map((m) => `${m.Member_Account} until ${fmtTime(m.MutedUntil * 1000)}`));
  list($("#room-banned"), fail(banned) || (banned.v.BannedAccountList || []).map((m) => `${m.Member_Account} until ${fmtTime(m.BannedUntil * 1000)}${m.Reason ? ` (${m.Reason})` : ""}`));
  const seatRows = seats.e ? [el("tr", {}, el("td", { colspan: 5, text: seats.e.message }))]
    : (seats.v.SeatList || []).map((s) => el("tr", {}, el("td", { text: s.Index }), el("td", { text: s.Member_Account || "" }),
      el("td", { text: s.IsTakenDisabled ? "yes" : "" }), el("td", { text: s.IsAudioDisabled ? "yes" : "" }), el("td", { text: s.IsVideoDisabled ? "yes" : "" })));
  $("#room-seats tbody").replaceChildren(...(seatRows.length ? seatRows : [el("tr", {}, el("td", { colspan: 5, class: "empty", text: "No seats." }))]));
  const metaRows = meta.e ? [el("tr", {}, el("td", { colspan: 2, text: meta.e.message }))]
    : (meta.v.Metadata || []).map((m) => el("tr", {}, el("td", { class: "wrap", text: m.Key }), el("td", { class: "wrap", text: m.Value })));
  $("#room-metadata tbody").replaceChildren(...(metaRows.length ? metaRows : [el("tr", {}, el("td", { colspan: 2, class: "empty", text: "No metadata." }))]));
  const msgItems = msgs.e ? [el("li", { text: msgs.e.message })] : (msgs.v.MsgList || []).map((m) => el("li", {},
    el("span", { class: "mono", text: `${fmtTime(m.MsgTime * 1000).slice(11, 19)} ` }), el("strong", { text: m.From_Account }), ": ", messageText(m.MsgBody)));
  $("#room-messages").replaceChildren(...(msgItems.length ? msgItems : [el("li", { class: "empty", text: "No messages." })]));
}

function messageText(body) {
  return (body || []).map((e) => e.MsgContent?.Text ?? (e.MsgContent?.Data !== undefined ? `[custom] ${e.MsgContent.Data}` : JSON.stringify(e))).join(" ");
}

async function roomAction(api, body, done) {
  await run(async () => {
    await call(api, { RoomId: openRoomId, ...body });
    notice(done);
    await refreshRoom();
  });
}

// ---------------------------------------------------------------- Apps

async function loadApp() {
  await run(async () => {
    settings = await call("roomd_delivery/get_settings");
    fillCommandSelects();
    $("#app-id").textContent = creds.sdkappid;
    $("#cb-url").value = settings.Url;
    const on = new Set(settings.CallbackCommandList);
    const groups = new Map();
    for (const c of settings.Commands) {
      if (!groups.has(c.Group)) groups.set(c.Group, []);
      groups.get(c.Group).push(c);
    }
    const sets = [];
    for (const [g, cmds] of groups) {
      sets.push(el("fieldset", {}, el("legend", { text: g }), ...cmds.map((c) => el("label", {},
        el("input", { type: "checkbox", name: "command", value: c.Command, checked: on.has(c.Command) }),
        c.Command, " ", el("span", { class: "kind", text: c.Kind })))));
    }
    $("#cb-groups").replaceChildren(...sets);
    $("#token").value = settings.Token;
    $("#token-enabled").checked = settings.IsTokenEnable;
    dl($("#delivery-settings"), [
      ["Standard Webhooks secret", settings.SigningSecretConfigured ? "configured (webhook-signature is sent)" : "not configured (set callback.signing_secret in the config file)", "signing-secret"],
      ["Timeout", `${settings.TimeoutMs} ms`],
      ["Retries", settings.RetryEnabled ? `on, up to ${settings.MaxAttempts} attempts` : "off (at most once, as Tencent)"],
      ["Message Before-callback without a valid reply", settings.BeforeSendMsgOnFailure],
      ["Room hold bound", settings.MaxRoomHoldMs ? `${fmtDuration(settings.MaxRoomHoldMs)} (then the room's failing callback is dead and the room moves on)` : "none", "setting-max-room-hold"],
      ["Circuit breaker", settings.BreakerFailures ? `opens after ${settings.BreakerFailures} consecutive failures, probes every ${fmtDuration(settings.BreakerProbeIntervalMs)}` : "off", "setting-breaker"],
      ["Rate limit", settings.MaxPerSecond > 0 ? `${settings.MaxPerSecond} attempts per second` : "none", "setting-rate"],
    ]);
  });
}

async function saveCallback(ev) {
  ev.preventDefault();
  const cmds = [...document.querySelectorAll('#cb-groups input[name="command"]:checked')].map((i) => i.value);
  await run(async () => {
    // set_callback creates the configuration, update_callback changes it (Tencent's pair).
    const api = settings && settings.Url ? "live_config/update_callback" : "live_config/set_callback";
    await call(api, { Url: $("#cb-url").value.trim(), CallbackCommandList: cmds });
    notice("Callback settings saved.");
    await loadApp();
  });
}

async function saveToken(ev) {
  ev.preventDefault();
  await run(async () => {
    await call("live_config/set_callback_token", { Token: $("#token").value, IsTokenEnable: $("#token-enabled").checked });
    notice("Token saved.");
    await loadApp();
  });
}

async function sendTest(ev) {
  ev.preventDefault();
  const button = ev.submitter || $('#test-form button[type="submit"]');
  button.disabled = true;
  await run(async () => {
    const r = await call("roomd_delivery/test_callback", { CallbackCommand: $("#test-command").value, RoomId: $("#test-room").value.trim() });
    $("#test-result").hidden = false;
    dl($("#test-meta"), [
      ["Result", r.State === "delivered" ? "delivered: HTTP 200 with a JSON object" : `failed: ${r.Error}`, "test-state"],
      ["HTTP status", r.StatusCode || "no reply", "test-status"], ["Latency", `${r.DurationMs} ms`], ["webhook-id", r.WebhookId],
      ["In the log as", `callback #${r.EventId}`],
    ]);
    $("#test-reply").textContent = pretty(r.Response) || "(empty)";
    $("#test-request").textContent = renderRequest(r.Request);
  });
  button.disabled = false;
}

// ---------------------------------------------------------------- wiring

function wire() {
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const c = { sdkappid: $("#login-sdkappid").value.trim(), identifier: $("#login-identifier").value.trim(), usersig: $("#login-usersig").value.trim() };
    await run(async () => { await login(c); location.hash = "callbacks"; route(); });
  });
  $("#logout").addEventListener("click", logout);
  window.addEventListener("hashchange", async () => {
    // A login link opened in a tab that already shows the console.
    if (location.hash.includes("usersig=")) {
      const c = readCreds();
      if (c) await run(() => login(c));
    }
    route();
  });

  $("#filter-form").addEventListener("input", () => { knownIds = new Set(); pollNow(); });
  $("#filter-form").addEventListener("reset", () => setTimeout(() => { knownIds = new Set(); pollNow(); }, 0));
  $("#filter-form").addEventListener("submit", (ev) => ev.preventDefault());
  $("#events-more").addEventListener("click", () => run(loadOlder));
  $("#event-close").addEventListener("click", () => closeEvent());
  $("#event-resend").addEventListener("click", resendOpen);
  $("#redrive-dead").addEventListener("click", () => redrive("dead", 0));
  $("#replay").addEventListener("click", () => {
    const since = unixOf($("#replay-since"));
    if (!since) { showError(new Error("choose the time to replay from")); return; }
    redrive("delivered", since);
  });

  $("#room-search").addEventListener("submit", (ev) => { ev.preventDefault(); location.hash = `rooms/${encodeURIComponent($("#room-search-id").value.trim())}`; });
  $("#rooms-refresh").addEventListener("click", () => loadRooms(false));
  $("#rooms-more").addEventListener("click", () => loadRooms(true));
  $("#room-close").addEventListener("click", () => closeRoom());
  $("#room-reload").addEventListener("click", () => run(refreshRoom));
  $("#owner-form").addEventListener("submit", (ev) => { ev.preventDefault(); roomAction("live_engine_http_srv/change_room_owner", { NewOwner_Account: $("#owner-new").value.trim() }, "Owner changed."); });
  $("#mute-form").addEventListener("submit", (ev) => { ev.preventDefault(); roomAction("live_engine_http_srv/mute_member", { MemberList_Account: [$("#mute-user").value.trim()], MuteTime: Number($("#mute-seconds").value) }, "Mute set."); });
  $("#ban-form").addEventListener("submit", (ev) => { ev.preventDefault(); roomAction("live_engine_http_srv/ban_member", { MemberList_Account: [$("#ban-user").value.trim()], Duration: Number($("#ban-seconds").value), Reason: $("#ban-reason").value }, "Member banned."); });
  $("#destroy").addEventListener("click", () => { $("#destroy-confirm").hidden = false; $("#destroy-confirm").focus(); });
  $("#destroy-confirm").addEventListener("click", () => run(async () => {
    await call("live_engine_http_srv/destroy_room", { RoomId: openRoomId });
    notice(`Room ${openRoomId} destroyed.`);
    closeRoom();
    await loadRooms(false);
  }));

  $("#callback-form").addEventListener("submit", saveCallback);
  $("#token-form").addEventListener("submit", saveToken);
  $("#token-delete").addEventListener("click", () => run(async () => { await call("live_config/delete_callback_token"); notice("Token deleted."); await loadApp(); }));
  $("#test-form").addEventListener("submit", sendTest);
}

async function start() {
  wire();
  const c = readCreds();
  if (c) {
    $("#login-sdkappid").value = c.sdkappid;
    $("#login-identifier").value = c.identifier;
    try { await login(c); } catch (e) { showError(e); }
  }
  route();
  startPolling();
  document.documentElement.dataset.ready = "1";
}

start();
