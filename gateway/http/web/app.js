// SPDX-License-Identifier: GPL-2.0-or-later
// The control-room page: problems first, counts per district/street/community, the grid map,
// open cases and a searchable camera list, in Chinese or English, times in the configured zone
// (UTC on hover). Every list is paged by the server; a server-sent event says when to look again.
// Strings from the store only ever become text (textContent), never markup.
"use strict";

const T = {
  en: {
    title: "Camera alarms", connecting: "connecting", live: "live", reconnecting: "reconnecting…",
    plain: "plain table", problems: "Problems", where: "Where", district: "District", street: "Street",
    community: "Community", area: "Area", cameras: "Cameras", offline: "Offline", channel_lost: "Channel lost",
    never_heard: "Never heard", open: "Open cases", open_cases: "Open cases", priority: "P", opened: "Opened",
    kind: "Kind", camera: "Camera", cell: "Cell", status: "Status", workers: "Grid workers",
    search_camera: "camera id or name", search_cell: "cell code or name", any_state: "any state",
    problem: "any problem", events_lost: "events lost", online: "online", unknown: "never heard",
    vendor: "Vendor", protocol: "Protocol", search: "Search", clear: "Clear", state: "State", since: "Since",
    last_event: "Last event", prev: "‹ previous", next: "next ›", of: "of", none: "none",
    no_problems: "No problems: every camera reports and the gateway is healthy.",
    p_offline: "cameras offline", p_channel_lost: "cameras whose event channel is lost",
    p_events_lost: "cameras lost events in the last hour", p_never_heard: "cameras never heard from",
    p_outbox_parked: "outbox rows refused by the broker (alarmgw outbox list --parked)",
    p_outbox_waiting: "cases waiting for the broker", p_store: "journal writes failing",
    p_broker: "broker not connected", since_word: "since", all: "all", map_none: "No grid layer imported: the map has nothing to draw.",
    crs: "coordinates", gen: "as of", total_cams: "cameras", of_open: "open cases",
    never_subscribed: "Never subscribed", p_never_subscribed: "cameras never subscribed (the gateway tried; address, password or protocol?)",
    p_unmatched_channels: "channels reported by devices that no ledger row names",
    p_clock_hours_off: "cameras whose clock is off by whole hours (a time zone where UTC belongs: set utc_offsets)",
    hours: "h",
    picture: "Picture", no_picture: "no picture", pending: "being captured", pruned: "pruned",
    captured: "captured", camera_clock: "camera clock", details: "Case", close: "close",
    subscribed_since: "subscribed", copy_hint: "for the ledger (select and copy):", alerts: "alerts",
    first_alarm: "first alarm", more_pictures: "more pictures not shown",
  },
  zh: {
    title: "视频告警网关", connecting: "连接中", live: "实时", reconnecting: "重新连接…",
    plain: "简表", problems: "异常", where: "分布", district: "区县", street: "街道",
    community: "社区", area: "区域", cameras: "摄像机", offline: "离线", channel_lost: "事件通道中断",
    never_heard: "从未上报", open: "未结案件", open_cases: "未结案件", priority: "级", opened: "立案时间",
    kind: "类型", camera: "摄像机", cell: "网格", status: "状态", workers: "网格员",
    search_camera: "摄像机编号或名称", search_cell: "网格编码或名称", any_state: "全部状态",
    problem: "全部异常", events_lost: "事件丢失", online: "在线", unknown: "从未上报",
    vendor: "厂商", protocol: "协议", search: "查询", clear: "清除", state: "状态", since: "起始",
    last_event: "最近事件", prev: "‹ 上一页", next: "下一页 ›", of: "共", none: "无",
    no_problems: "无异常：所有摄像机正常上报，网关运行正常。",
    p_offline: "台摄像机离线", p_channel_lost: "台摄像机事件通道中断",
    p_events_lost: "台摄像机近一小时丢失事件", p_never_heard: "台摄像机从未上报",
    p_outbox_parked: "条消息被消息服务器拒收（alarmgw outbox list --parked）",
    p_outbox_waiting: "条案件消息等待发送", p_store: "日志写入失败",
    p_broker: "消息服务器未连接", since_word: "自", all: "全部", map_none: "未导入网格图层，地图无内容。",
    crs: "坐标系", gen: "数据时间", total_cams: "台摄像机", of_open: "件未结案件",
    never_subscribed: "从未订阅", p_never_subscribed: "台摄像机从未订阅成功（网关已尝试：地址、密码或协议？）",
    p_unmatched_channels: "个通道由设备上报，但台账中没有对应记录",
    p_clock_hours_off: "台设备时钟相差整数小时（时区被当作 UTC：请设置 utc_offsets）",
    hours: "小时",
    picture: "图片", no_picture: "无图片", pending: "抓拍中", pruned: "已清理",
    captured: "抓拍时间", camera_clock: "设备时间", details: "案件", close: "关闭",
    subscribed_since: "订阅于", copy_hint: "供补录台账（可选中复制）：", alerts: "条告警",
    first_alarm: "首次告警", more_pictures: "张图片未显示",
  },
};
// The order of the server's states (gateway/http/status.h): /api/points sends the index.
const STATES = ["offline", "channel_lost", "never_subscribed", "online", "unknown"];
const ONLINE = STATES.indexOf("online");
const COLOURS = { offline: "#c0392b", channel_lost: "#d68910", never_subscribed: "#8e44ad", online: "#1e8449", unknown: "#7f8c8d" };
const PAGE = 50;

const page = {
  lang: localStorage.getItem("agw.lang") || document.documentElement.lang || "en",
  tz: "Asia/Shanghai", summary: null, level: "district",
  filter: {}, camOffset: 0, caseScope: {}, caseOffset: 0, detail: null,
  map: null, gridLayer: null, gridVersion: null, pointsKey: null, pointLayer: null,
  started: performance.now(), firstRender: null, polygons: 0, points: 0, timer: null,
  camSeq: 0, caseSeq: 0, fmt: null, live: "connecting",
};
window.agwPage = page;

const $ = (id) => document.getElementById(id);
const t = (key) => (T[page.lang] || T.en)[key] || key;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

// A time in the configured zone, UTC on hover.
function timeCell(iso) {
  const td = el("td");
  if (!iso) { td.textContent = "–"; return td; }
  const d = new Date(iso);
  // 2026-12-03 18:34:21 in either language: what the logs and the platform show.
  const parts = {};
  for (const p of page.fmt.formatToParts(d)) parts[p.type] = p.value;
  td.textContent = `${parts.year}-${parts.month}-${parts.day} ${parts.hour === "24" ? "00" : parts.hour}:${parts.minute}:${parts.second}`;
  td.title = d.toISOString().replace(".000Z", "Z") + " UTC";
  td.className = "time";
  return td;
}

async function getJSON(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const url = q.toString() ? path + "?" + q : path;
  const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) throw new Error(path + ": " + r.status + " " + (await r.text()));
  return r.json();
}

function translate() {
  document.documentElement.lang = page.lang;
  document.querySelectorAll("[data-t]").forEach((e) => { e.textContent = t(e.dataset.t); });
  document.querySelectorAll("[data-ph]").forEach((e) => { e.placeholder = t(e.dataset.ph); });
  $("live").textContent = t(page.live);
  $("lang-en").classList.toggle("on", page.lang === "en");
  $("lang-zh").classList.toggle("on", page.lang === "zh");
}

function setLang(lang) {
  page.lang = lang;
  localStorage.setItem("agw.lang", lang);
  translate();
  refresh();
}

// ---- problems ----

function renderProblems(s) {
  const ul = $("problems");
  ul.replaceChildren();
  if (!s.problems.length) ul.append(el("li", t("no_problems"), "ok"));
  for (const p of s.problems) {
    const li = el("li", null, "problem " + p.kind);
    li.dataset.kind = p.kind;
    // The gateway's own troubles (store, broker) are one thing each: no count.
    if (p.kind !== "store" && p.kind !== "broker") li.append(el("b", p.count.toLocaleString() + " "));
    li.append(el("span", t("p_" + p.kind)));
    if (p.since) {
      const since = timeCell(p.since);
      li.append(el("span", " " + t("since_word") + " ", "muted"), el("span", since.textContent, "time"));
      li.lastChild.title = since.title;
    }
    const state = { offline: "offline", channel_lost: "channel_lost", events_lost: "events_lost", never_heard: "unknown",
      never_subscribed: "never_subscribed" }[p.kind];
    if (state) {
      li.classList.add("link");
      li.addEventListener("click", () => { setFilter({ state }); });
    }
    if (p.kind === "unmatched_channels") li.append(channelList(p));
    if (p.kind === "clock_hours_off")
      li.append(el("div", (p.cameras || []).map((c) => c.id + " " + (c.hours > 0 ? "+" : "") + c.hours + " " + t("hours")).join(", "), "muted"));
    ul.append(li);
  }
}

// Channels no ledger row names, as lines an integrator copies into the ledger's work: a GB/T
// 28181 channel by its ID (the ledger row's address) and device; an NVR channel by its device row
// and number (the ledger's device and channel columns).
function channelList(p) {
  const box = el("div", null, "channels");
  box.append(el("div", t("copy_hint"), "muted"));
  const lines = (p.cameras || []).map((c) => c.id
    ? [c.adapter, c.id, c.device || "", c.name || "", c.first_alarm ? t("first_alarm") + " " + c.first_alarm : ""].join("\t")
    : [c.adapter, "device=" + c.device, "channel=" + c.channel, c.alerts + " " + t("alerts")].join("\t"));
  const pre = el("pre", lines.join("\n"));
  pre.id = "unmatched-list";
  box.append(pre);
  if (p.count > lines.length) box.append(el("div", "… " + (p.count - lines.length) + " more: alarmgw channels --unmatched", "muted"));
  return box;
}

// ---- counts per level ----

function renderLevels(s) {
  document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("on", b.dataset.level === page.level));
  const rows = (s.levels && s.levels[page.level]) || [];
  const bad = (r) => r.offline + r.channel_lost + (r.never_subscribed || 0) + r.open;
  rows.sort((a, b) => bad(b) - bad(a) || a.code.localeCompare(b.code));
  const tb = $("levels").tBodies[0];
  tb.replaceChildren();
  for (const r of rows) {
    const tr = el("tr", null, "link" + (r.offline || r.channel_lost ? " bad" : ""));
    tr.dataset.code = r.code;
    tr.append(el("td", r.name ? r.name + " (" + r.code + ")" : r.code), el("td", r.cameras), el("td", r.offline),
      el("td", r.channel_lost), el("td", r.never_subscribed || 0), el("td", r.unknown), el("td", r.open));
    tr.addEventListener("click", () => selectCell(r.code, r.name));
    tb.append(tr);
  }
}

// ---- the map ----

function cellStyle(code) {
  const c = (page.summary && page.summary.cells && page.summary.cells[code]) || [0, 0, 0];
  const open = c[2];
  return { color: "#34495e", weight: 1, fillColor: open ? "#e74c3c" : "#aed6f1", fillOpacity: open ? Math.min(0.15 + 0.1 * open, 0.7) : 0.15 };
}

async function drawGrid(s) {
  if (!page.map) return;
  if (!s.grid) { $("map-note").textContent = t("map_none"); return; }
  $("map-note").textContent = t("crs") + ": " + s.grid.crs + " · " + s.grid.layer + " v" + s.grid.version;
  if (page.gridVersion !== s.grid.version) {
    const g = await getJSON("/api/grid");
    if (page.gridLayer) page.gridLayer.remove();
    page.polygons = 0;
    page.gridLayer = L.geoJSON(g, {
      style: (f) => cellStyle(f.properties.code),
      onEachFeature: (f, layer) => {
        page.polygons++;
        layer.on("click", () => selectCell(f.properties.code, f.properties.name));
        // An element, not a string: Leaflet would read a string as markup.
        layer.bindTooltip(el("span", (f.properties.name || "") + " " + f.properties.code));
      },
    }).addTo(page.map);
    page.gridVersion = s.grid.version;
    if (g.features.length) page.map.fitBounds(page.gridLayer.getBounds());
  } else if (page.gridLayer) {
    page.gridLayer.setStyle((f) => cellStyle(f.properties.code));
  }
}

async function drawPoints(s) {
  if (!page.map) return;
  const key = JSON.stringify(s.cameras_by_state) + s.cameras;
  if (key === page.pointsKey) return;
  const p = await getJSON("/api/points");
  if (page.pointLayer) page.pointLayer.remove();
  const renderer = L.canvas({ padding: 0.2 });
  const group = L.layerGroup();
  // Problems drawn last, so they lie on top of the healthy ones.
  p.points.sort((a, b) => (a[2] === ONLINE ? 0 : 1) - (b[2] === ONLINE ? 0 : 1));
  for (const [lon, lat, st, id] of p.points) {
    const m = L.circleMarker([lat, lon], { renderer, radius: st === ONLINE ? 2 : 3.5, stroke: false, fillOpacity: 0.9,
      fillColor: COLOURS[STATES[st]] });
    m.on("click", () => selectCamera(id));
    group.addLayer(m);
  }
  page.pointLayer = group.addTo(page.map);
  page.points = p.points.length;
  page.pointsKey = key;
}

function initMap(s) {
  if (page.map || !s.map || !window.L) {
    if (!window.L || !s.map) $("map-note").textContent = "Leaflet: /static/leaflet.js unavailable (install libjs-leaflet)";
    return;
  }
  page.map = L.map("map", { preferCanvas: true, attributionControl: false, zoomSnap: 0.25 });
  if (s.tile_url) L.tileLayer(s.tile_url, { maxZoom: 19 }).addTo(page.map);
  page.map.setView([35, 105], 4);
}

// ---- cases ----

function selectCell(code, name) {
  page.caseScope = { cell: code, label: (name ? name + " " : "") + code };
  page.caseOffset = 0;
  setFilter({ cell: code });
}

function selectCamera(id) {
  page.caseScope = { camera: id, label: id };
  page.caseOffset = 0;
  setFilter({ q: id });
}

function pager(div, total, offset, go) {
  div.replaceChildren();
  const prev = el("button", t("prev")), next = el("button", t("next"));
  prev.type = next.type = "button";
  prev.disabled = offset <= 0;
  next.disabled = offset + PAGE >= total;
  prev.addEventListener("click", () => go(Math.max(0, offset - PAGE)));
  next.addEventListener("click", () => go(offset + PAGE));
  const span = el("span", total ? (offset + 1) + "–" + Math.min(offset + PAGE, total) + " " + t("of") + " " + total.toLocaleString() : t("none"), "count");
  div.append(prev, span, next);
}

async function loadCases() {
  const sc = page.caseScope, seq = ++page.caseSeq;
  const r = await getJSON("/api/cases", { cell: sc.cell, camera: sc.camera, offset: page.caseOffset, limit: PAGE });
  if (seq !== page.caseSeq) return; // an answer to an older question
  $("case-scope").textContent = sc.label ? "· " + sc.label : "";
  const tb = $("cases").tBodies[0];
  tb.replaceChildren();
  for (const c of r.cases) {
    const tr = el("tr", null, "p" + c.priority + " link");
    tr.append(el("td", c.priority), pictureCell(c), timeCell(c.opened), el("td", c.kind), el("td", c.camera_name || c.camera),
      el("td", c.cell_name ? c.cell_name + " (" + c.cell + ")" : c.cell), el("td", c.status), el("td", (c.workers || []).join(", ")));
    tr.title = c.id;
    tr.dataset.id = c.id;
    tr.addEventListener("click", () => showCase(c));
    tb.append(tr);
    if (page.detail && page.detail.id === c.id) showCase(c);
  }
  pager($("case-pager"), r.total, page.caseOffset, (o) => { page.caseOffset = o; loadCases(); });
}

// ---- pictures ----
// A picture is an <img src="/evidence/<case>/<n>">: a same-origin request, so it passes exactly
// where the page's fetch() calls pass. The page holds no token of its own (a browser cannot be
// made to send a bearer token; the operator guide puts the site's login in a reverse proxy or an
// SSH tunnel in front of the gateway), so fetching the picture as a blob would add nothing to the
// authentication and would need "img-src blob:" in the CSP; a plain <img> keeps "img-src 'self'".

// The picture a case is best shown by: its newest stored one, else its newest entry (to say why
// there is none).
function casePicture(c) {
  const ps = c.pictures || [];
  return [...ps].reverse().find((p) => p.url) || ps[ps.length - 1] || null;
}

function pictureText(p) {
  if (!p) return t("none");
  if (p.status === "pending") return t("pending");
  if (p.status === "pruned") return t("no_picture") + ": " + t("pruned");
  return t("no_picture") + ": " + p.status + (p.reason ? " (" + p.reason + ")" : "");
}

function pictureImg(p, cls) {
  const img = el("img", null, cls);
  img.src = p.url;
  img.alt = t("picture") + " " + p.n;
  img.loading = "lazy";
  img.decoding = "async";
  // A picture the server could not give now (busy, pruned since the list was read): say so.
  img.addEventListener("error", () => { img.replaceWith(el("span", t("no_picture"), "muted nopic")); });
  return img;
}

function pictureCell(c) {
  const td = el("td", null, "pic");
  const p = casePicture(c);
  if (p && p.url) {
    td.append(pictureImg(p, "thumb"));
    if (p.captured) td.title = t("captured") + " " + timeCell(p.captured).textContent;
  } else {
    td.append(el("span", pictureText(p), "muted nopic"));
  }
  return td;
}

function showCase(c) {
  page.detail = c;
  const box = $("case-detail");
  box.replaceChildren();
  box.hidden = false;
  const close = el("button", t("close"));
  close.type = "button";
  close.addEventListener("click", () => { box.hidden = true; page.detail = null; });
  const head = el("h3", t("details") + " " + c.id + " ");
  head.append(close);
  const dl = el("p", [c.kind, c.camera_name || c.camera, c.cell_name || c.cell, c.status, "P" + c.priority].join(" · "));
  const opened = timeCell(c.opened);
  dl.append(el("span", " · " + t("opened") + " "), el("span", opened.textContent, "time"));
  dl.lastChild.title = opened.title;
  box.append(head, dl);
  const list = el("div", null, "pictures");
  for (const p of c.pictures || []) {
    const fig = el("figure", null, p.url ? "" : "nopic");
    fig.dataset.n = p.n;
    if (p.url) fig.append(pictureImg(p, "full"));
    const cap = el("figcaption", "#" + p.n + " ");
    if (p.url && p.captured) {
      const ct = timeCell(p.captured);
      cap.append(el("span", t("captured") + " "), el("span", ct.textContent, "time"));
      cap.lastChild.title = ct.title;
      if (p.camera_time) cap.append(el("span", " · " + t("camera_clock") + " " + timeCell(p.camera_time).textContent, "muted"));
    } else {
      cap.append(el("span", pictureText(p), "muted"));
    }
    fig.append(cap);
    list.append(fig);
  }
  if (!(c.pictures || []).length) list.append(el("p", t("no_picture"), "muted"));
  if (c.pictures_total > (c.pictures || []).length) list.append(el("p", (c.pictures_total - c.pictures.length) + " " + t("more_pictures"), "muted"));
  box.append(list);
}

// ---- cameras ----

function setFilter(f) {
  page.filter = f;
  page.camOffset = 0;
  for (const k of ["q", "cell", "state", "vendor", "protocol"]) $("f-" + k).value = f[k] || "";
  if (!f.cell && !f.q) { page.caseScope = {}; page.caseOffset = 0; }
  loadCameras();
  loadCases();
}

async function loadCameras() {
  const seq = ++page.camSeq;
  const r = await getJSON("/api/cameras", Object.assign({ offset: page.camOffset, limit: PAGE }, page.filter));
  if (seq !== page.camSeq) return; // an answer to an older question
  const tb = $("cameras").tBodies[0];
  tb.replaceChildren();
  for (const c of r.cameras) {
    const tr = el("tr", null, "st-" + c.state);
    tr.dataset.id = c.id;
    tr.append(el("td", t(c.state === "unknown" ? "never_heard" : c.state), "state"), timeCell(c.since),
      el("td", c.name ? c.name + " (" + c.id + ")" : c.id), el("td", c.cell_name ? c.cell_name + " (" + c.cell + ")" : c.cell || ""),
      el("td", c.vendor || ""), el("td", c.protocol || ""), timeCell(c.last_event), el("td", c.open_cases || ""));
    tr.addEventListener("click", () => { page.caseScope = { camera: c.id, label: c.name || c.id }; page.caseOffset = 0; loadCases(); });
    tb.append(tr);
  }
  pager($("camera-pager"), r.total, page.camOffset, (o) => { page.camOffset = o; loadCameras(); });
}

// ---- the whole ----

async function refresh() {
  try {
    const s = await getJSON("/api/summary");
    page.summary = s;
    if (!page.fmt || page.tz !== s.time_zone) {
      page.tz = s.time_zone || page.tz;
      page.fmt = new Intl.DateTimeFormat("en-CA", { timeZone: page.tz, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
    }
    const b = s.cameras_by_state;
    $("totals").textContent = s.cameras.toLocaleString() + " " + t("total_cams") + " · " + b.offline.toLocaleString() + " " + t("offline") +
      " · " + s.open_cases + " " + t("of_open");
    const g = timeCell(s.generated);
    $("generated").textContent = t("gen") + " " + g.textContent;
    $("generated").title = g.title;
    renderProblems(s);
    renderLevels(s);
    initMap(s);
    await Promise.all([drawGrid(s), drawPoints(s), loadCameras(), loadCases()]);
    if (page.firstRender === null) {
      page.firstRender = performance.now() - page.started;
      document.body.dataset.firstRender = page.firstRender.toFixed(0);
    }
    document.body.dataset.rendered = String(s.journal_last_seq);
  } catch (e) {
    $("live").textContent = String(e.message || e);
    $("live").className = "live off";
  }
}

// Changes come in bursts (a storm of alerts): at most one refresh a second.
function later() {
  if (page.timer) return;
  page.timer = setTimeout(() => { page.timer = null; refresh(); }, 1000);
}

function live() {
  const es = new EventSource("/api/events");
  const show = (state, on) => { page.live = state; $("live").textContent = t(state); $("live").className = "live " + (on ? "on" : "off"); };
  es.addEventListener("open", () => show("live", true));
  es.addEventListener("change", later);
  es.addEventListener("error", () => show("reconnecting", false));
}

function start() {
  translate();
  $("lang-en").addEventListener("click", () => setLang("en"));
  $("lang-zh").addEventListener("click", () => setLang("zh"));
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => {
    page.level = b.dataset.level;
    if (page.summary) renderLevels(page.summary);
  }));
  $("filter").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = {};
    for (const k of ["q", "cell", "state", "vendor", "protocol"]) f[k] = $("f-" + k).value.trim();
    setFilter(f);
  });
  $("filter").addEventListener("reset", (e) => { e.preventDefault(); setFilter({}); });
  refresh();
  live();
}

start();
