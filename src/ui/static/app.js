// The browser view of a running (or replayed) tapvs director. Plain
// JavaScript, no framework and nothing fetched from elsewhere: the page asks
// the director's own server for JSON and listens to its event stream.
import { drawDiagram, realServers } from './diagram.js';
import { LESSONS } from './lessons.js';

const $ = (sel) => document.querySelector(sel);
const h = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) if (k !== undefined && k !== null) e.append(k instanceof Node ? k : String(k));
  return e;
};
/** addr:port, or [addr]:port for an IPv6 address (as ipvsadm writes them). */
const hp = (addr, port) => (String(addr).includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
/** How the director asked for the next hop's MAC: ARP for IPv4, neighbour discovery for IPv6. */
const resolver = (p) => {
  const ip = (p.received?.layers ?? []).find((l) => l.id === 'ip' || l.id === 'ip-outer');
  return ip?.name.startsWith('IPv6') ? 'neighbour discovery' : 'ARP';
};
const getJson = async (url) => {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
};

const S = {
  mode: 'live',
  topology: null,
  tables: null,
  tablesAt: 0, // performance.now() when tables arrived: the expiry countdown runs from there
  walks: [],
  walkKey: null,
  walk: null, // { walk, passes, skipped }
  passIndex: -1,
  pass: null,
  history: new Map(), // counter series per service / real server
  dropsSeen: {},
  timeline: [],
  tlIndex: -1,
  playing: false,
  playTimer: null,
  lesson: null,
};

// ---------- formatting ----------
function mmss(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
function field(layer, id) {
  return layer?.fields.find((f) => f.id === id)?.value;
}
function layerOf(frame, id) {
  return frame?.layers.find((l) => l.id === id);
}
const connKeyOfRow = (c) => `${c.proto} ${c.source} ${c.virtual} ${c.destination}`;

// ---------- modes and lessons ----------
function modesInUse() {
  const m = new Set();
  for (const rs of realServers(S.tables)) m.add(rs.mode);
  return [...m];
}
function showLesson(which) {
  S.lesson = which;
  const l = LESSONS[which];
  $('#lesson').innerHTML = l ? `<h3 data-lesson-shown="${which}">${l.title}</h3>${l.body}` : '';
  for (const b of document.querySelectorAll('#lesson-tabs button')) b.classList.toggle('on', b.dataset.lesson === which);
}

// ---------- tables ----------
function setTables(tables, topology) {
  S.tables = tables;
  S.tablesAt = performance.now();
  if (topology) S.topology = topology;
  recordHistory(tables);
  renderModes();
  renderDiagram();
  renderConns();
  renderCounters();
  renderDrops();
  if (!S.lesson) {
    const asked = new URLSearchParams(location.search).get('lesson');
    const m = modesInUse()[0];
    showLesson(asked ?? (m ? m.toLowerCase() : 'nat'));
  }
}

function renderModes() {
  $('#modes').replaceChildren(...modesInUse().map((m) => h('span', { 'data-mode': m }, m)));
}

function highlight() {
  const p = S.pass;
  if (!p || (p.kind !== 'request' && p.kind !== 'reply')) return undefined;
  const w = S.walk?.walk;
  const dest = p.decision?.dest ?? w?.dest;
  return { kind: p.kind, mode: p.mode ?? w?.mode, dest };
}

function renderDiagram() {
  drawDiagram($('#topology'), S.topology, S.tables, highlight());
  const rss = realServers(S.tables);
  $('#topology-note').textContent = `${rss.length} real server${rss.length === 1 ? '' : 's'}`;
}

function renderConns() {
  const t = S.tables;
  if (!t) return;
  const known = new Set(S.walks.map((w) => w.key));
  const elapsed = S.mode === 'live' ? performance.now() - S.tablesAt : 0;
  const rows = t.conns.map((c) => {
    const key = connKeyOfRow(c);
    const has = known.has(key);
    return h('tr', {
      class: `${has ? 'has-walk' : ''}${key === S.walkKey ? ' selected' : ''}`, 'data-key': key,
      onclick: has ? () => selectWalk(key) : undefined,
    },
    h('td', {}, c.proto), h('td', { class: 'expire', 'data-ms': c.expiresIn }, mmss(c.expiresIn - elapsed)), h('td', { class: 'state' }, c.state),
    h('td', { class: 'source' }, c.source), h('td', {}, c.virtual), h('td', { class: 'destination' }, c.destination));
  });
  $('#conns tbody').replaceChildren(...rows);
  $('#conn-count').textContent = t.connCount > t.conns.length ? `${t.connCount} entries, first ${t.conns.length} shown` : `${t.connCount} entries`;
}

/** The expiry column counts down between updates (live only; a replay shows its snapshot). */
function tickExpiry() {
  if (S.mode !== 'live' || !S.tables) return;
  const elapsed = performance.now() - S.tablesAt;
  for (const td of document.querySelectorAll('#conns td.expire')) td.textContent = mmss(Number(td.dataset.ms) - elapsed);
}

function recordHistory(t) {
  if (!t) return;
  const add = (key, s) => {
    let a = S.history.get(key);
    if (!a) S.history.set(key, (a = []));
    const last = a[a.length - 1];
    if (last && t.now < last.t) a.length = 0; // replay went back in time
    if (last && t.now === last.t) a.pop();
    a.push({ t: t.now, pkts: s.inpkts + s.outpkts, conns: s.conns });
    if (a.length > 61) a.shift();
  };
  for (const svc of t.services) {
    add(svc.label, svc.stats);
    for (const d of svc.dests) add(`${svc.label} ${hp(d.addr, d.port)}`, d.stats);
  }
}

function sparkline(key) {
  const a = S.history.get(key) ?? [];
  const rates = [];
  for (let i = 1; i < a.length; i++) {
    const dt = (a[i].t - a[i - 1].t) / 1000;
    rates.push(dt > 0 ? (a[i].pkts - a[i - 1].pkts) / dt : 0);
  }
  const w = 120;
  const hgt = 24;
  const max = Math.max(1, ...rates);
  const pts = rates.map((r, i) => `${(i / Math.max(1, rates.length - 1)) * w},${hgt - (r / max) * (hgt - 2) - 1}`).join(' ');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('width', w);
  svg.setAttribute('height', hgt);
  const pl = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  pl.setAttribute('points', pts);
  svg.append(pl);
  const now = rates.length ? rates[rates.length - 1] : 0;
  return h('span', { class: 'rate', title: 'packets/s (in + out), over the last updates' }, svg, ` ${now.toFixed(now < 10 ? 1 : 0)} pkt/s`);
}

function renderCounters() {
  const t = S.tables;
  if (!t) return;
  const blocks = t.services.map((svc) => h('div', { class: 'counter-block', 'data-service': svc.label },
    h('div', { class: 'svc' }, `${svc.label} (${svc.scheduler})`, ' ', sparkline(svc.label)),
    h('div', { class: 'small' }, `conns ${svc.stats.conns} · in ${svc.stats.inpkts} pkts / ${bytes(svc.stats.inbytes)} · out ${svc.stats.outpkts} pkts / ${bytes(svc.stats.outbytes)}`),
    h('table', { class: 'grid small' }, h('tbody', {}, ...svc.dests.map((d) => h('tr', { 'data-dest': hp(d.addr, d.port) },
      h('td', {}, `${d.name ? d.name + ' ' : ''}${hp(d.addr, d.port)}`), h('td', {}, `${d.mode} w${d.weight}`),
      h('td', { class: d.health ? (d.health.up ? 'health up' : 'health down') : 'health', title: d.health?.error ?? '' },
        d.health ? `${d.health.kind} ${d.health.up ? 'up' : `down${d.heldOut ? ' (taken out)' : ''}`}` : ''),
      h('td', { class: 'conns' }, `${d.stats.conns} conns`), h('td', {}, `${d.stats.inpkts}/${d.stats.outpkts} pkts`),
      h('td', {}, sparkline(`${svc.label} ${hp(d.addr, d.port)}`))))))));
  $('#counters').replaceChildren(...blocks);
}

function renderDrops() {
  const t = S.tables;
  if (!t) return;
  const entries = Object.entries(t.drops);
  const rows = entries.map(([reason, n]) => h('tr', { 'data-reason': reason },
    h('td', {}, reason), h('td', { class: (S.dropsSeen[reason] ?? n) < n ? 'bumped' : '' }, n)));
  $('#drops tbody').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { class: 'muted' }, 'no drops'))]));
  S.dropsSeen = { ...t.drops };
}

function renderWalks() {
  const rows = S.walks.map((w) => h('tr', { class: `has-walk${w.key === S.walkKey ? ' selected' : ''}`, 'data-key': w.key, onclick: () => selectWalk(w.key) },
    h('td', {}, w.proto), h('td', { class: 'client' }, w.client), h('td', {}, w.virtual), h('td', {}, w.dest), h('td', {}, w.mode),
    h('td', {}, w.state ?? ''), h('td', { class: 'frames' }, w.frames)));
  $('#walks tbody').replaceChildren(...rows);
}

async function renderOther() {
  if (S.mode !== 'live') return;
  try {
    const list = await getJson('/api/other');
    $('#other').replaceChildren(...list.slice(-12).reverse().map((p) => h('li', { 'data-pass': p.id, onclick: () => showOtherPass(p.id) },
      p.text, p.drops.length ? h('span', { class: 'drop' }, ` dropped: ${p.drops.join(', ')}`) : '')));
  } catch { /* the next update tries again */ }
}

/** A frame of no connection (ARP, an announcement, a drop), shown alone in the walk panel. */
async function showOtherPass(id) {
  let pass;
  try {
    pass = await getJson(`/api/pass?id=${id}`);
  } catch {
    return;
  }
  S.walkKey = null;
  S.walk = { walk: { key: '', proto: '', client: '', virtual: '', dest: '', mode: '', service: '', scheduler: '' }, passes: [pass], skipped: 0 };
  S.passIndex = 0;
  S.pass = pass;
  renderWalk();
  $('#walk-title').textContent = 'a frame of no connection';
  renderDiagram();
  renderWalks();
}

// ---------- the packet walk ----------
async function selectWalk(key, passId) {
  S.walkKey = key;
  try {
    S.walk = await getJson(`/api/walk?key=${encodeURIComponent(key)}`);
  } catch {
    S.walk = null;
  }
  renderWalks();
  renderConns();
  if (!S.walk) return renderWalk();
  let i = passId !== undefined ? S.walk.passes.findIndex((p) => p.id === passId) : 0;
  if (i < 0) i = 0;
  selectPass(i);
}

function selectPass(i) {
  const passes = S.walk?.passes ?? [];
  if (i < 0 || i >= passes.length) return;
  S.passIndex = i;
  S.pass = passes[i];
  renderWalk();
  renderDiagram();
}

function passLine(p, t0) {
  const rcv = p.received;
  const tcp = layerOf(rcv, 'tcp');
  const udp = layerOf(rcv, 'udp');
  const what = tcp ? `TCP ${field(tcp, 'flags')}${field(tcp, 'data') !== '0 bytes' ? ' ' + field(tcp, 'data') : ''}` : udp ? `UDP ${field(udp, 'len')} B` : (rcv?.layers[1]?.name ?? '');
  const dir = p.kind === 'reply' ? 'real server → client' : p.kind === 'request' ? 'client → real server' : p.kind;
  const fate = p.drops.length ? ` dropped (${p.drops.join(', ')})` : p.sent.length === 0 ? (p.held ? ` waiting for ${resolver(p)}` : ' nothing sent') : p.sent.some((s) => s.releasedBy) ? ` sent after ${resolver(p)}` : '';
  return [h('span', { class: 'muted' }, `+${(p.time - t0).toFixed(1)} ms `), h('span', { class: 'dir' }, dir), ` ${what}${fate}`];
}

function renderWalk() {
  const W = S.walk;
  if (!W) {
    $('#walk-title').textContent = 'pick a connection below';
    $('#walk-list').replaceChildren();
    $('#pass-detail').replaceChildren();
    $('#walk-reason').replaceChildren();
    $('#walk-pos').textContent = '';
    return;
  }
  const w = W.walk;
  $('#walk-title').textContent = `${w.proto} ${w.client} → VIP ${w.virtual} → ${w.dest} · ${w.mode} · ${w.service}`;
  $('#walk-reason').replaceChildren(...(w.reason
    ? [h('span', {}, 'Scheduler ', h('b', {}, w.scheduler), ' chose ', h('b', {}, w.dest), ' for the first packet: ', h('span', { id: 'sched-reason' }, w.reason))]
    : []));
  const t0 = W.passes[0]?.time ?? 0;
  $('#walk-list').replaceChildren(...W.passes.map((p, i) => h('li', { class: i === S.passIndex ? 'current' : '', 'data-pass': p.id, onclick: () => goToPass(i) }, ...passLine(p, t0))));
  $('#walk-skipped').textContent = W.skipped > 0 ? `${W.skipped} frames in the middle were not kept (the first and the latest are)` : '';
  $('#walk-pos').textContent = W.passes.length ? `frame ${S.passIndex + 1} of ${W.passes.length}` : '';
  $('#walk-prev').disabled = S.passIndex <= 0;
  $('#walk-next').disabled = S.passIndex >= W.passes.length - 1;
  renderPassDetail(S.pass);
}

function goToPass(i) {
  if (S.mode === 'replay') {
    const p = S.walk?.passes[i];
    const ti = p ? S.timeline.findIndex((x) => x.id === p.id) : -1;
    if (ti >= 0) return goTo(ti);
  }
  selectPass(i);
}

function layerBox(layer, side) {
  const rows = layer.fields.map((f) => {
    const cls = side === 'sent' ? f.changed ?? '' : '';
    return h('tr', { class: cls, 'data-field': f.id },
      h('td', { class: 'fname' }, f.name),
      h('td', { class: 'field-value' }, f.value, f.changed && side === 'sent' ? h('span', { class: 'was' }, ` (was ${f.before})`) : ''));
  });
  return h('div', { class: `layer${layer.added && side === 'sent' ? ' added' : ''}`, 'data-layer': layer.id },
    h('div', { class: 'lname' }, layer.name, layer.added && side === 'sent' ? ' — added by the director' : ''),
    h('table', {}, h('tbody', {}, ...rows)));
}

/** Marks, on the received frame, the fields the sent frame changed: the eye finds them on both sides. */
function markWillChange(recvBox, sent) {
  for (const l of sent?.layers ?? []) {
    for (const f of l.fields) {
      if (f.changed !== 'rewrite') continue;
      recvBox.querySelector(`[data-layer="${l.id}"] tr[data-field="${f.id}"]`)?.classList.add('will-change');
    }
  }
}

function hopText(p) {
  const ip = layerOf(p.received, 'ip');
  const src = field(ip, 'src');
  const dst = field(ip, 'dst');
  const out = p.sent[0];
  const outIp = layerOf(out?.frame, 'ip');
  const outer = layerOf(out?.frame, 'ip-outer');
  if (p.kind === 'request') {
    const to = outer ? `${field(outer, 'dst')} (${outer.name.startsWith('IPv6') ? 'IPv6-in-IPv6' : 'IP-in-IP'})` : p.mode === 'DR' ? `${p.decision?.dest ?? ''} (by MAC)` : field(outIp, 'dst');
    return `client ${src} → director (in on ${p.port}) → real server ${to ?? '?'}${out ? ` (out on ${out.port})` : ''}`;
  }
  if (p.kind === 'reply') return `real server ${src} → director (in on ${p.port}) → client ${dst}${out ? ` (out on ${out.port})` : ''}`;
  return `${p.received?.summary ?? 'timer'}`;
}

function replyPath(p) {
  const m = p.mode;
  const vip = S.walk?.walk.virtual ?? '';
  if (m === 'NAT') {
    if (p.kind === 'reply') {
      return h('div', { class: 'replypath', id: 'reply-path' }, `This is the real server's reply, back through the director: its source becomes the VIP ${vip} again, and its TTL drops by one (it is routed).`);
    }
    return h('div', { class: 'replypath', id: 'reply-path' }, 'Replies come back through the director (the real servers\' gateway), which puts the VIP back as their source: the green path.');
  }
  if (m === 'DR' || m === 'TUN') {
    return h('div', { class: 'replypath bypass', id: 'reply-path' },
      `The real server answers the client itself, from the VIP ${vip}, through the router: the reply never crosses the director (the orange path), so the director sees only this direction.`);
  }
  return '';
}

function changeList(sent) {
  const rewrites = [];
  const hops = [];
  for (const l of sent?.layers ?? []) {
    if (l.added) {
      rewrites.push(h('li', { class: 'added', 'data-layer': l.id }, `added ${l.name}: ${field(l, 'src')} → ${field(l, 'dst')}`));
      continue;
    }
    for (const f of l.fields) {
      if (!f.changed) continue;
      const li = h('li', { class: f.changed, 'data-layer': l.id, 'data-field': f.id }, `${l.name} ${f.name}: ${f.before} → ${f.value}`);
      (f.changed === 'rewrite' ? rewrites : hops).push(li);
    }
  }
  const out = [];
  out.push(h('div', { class: 'small' }, h('b', {}, rewrites.length ? 'What the director rewrote:' : 'The director rewrote nothing in this frame.')));
  if (rewrites.length) out.push(h('ul', { id: 'changes' }, ...rewrites));
  if (hops.length) out.push(h('div', { class: 'small muted' }, 'Changed as on any hop: ', ...hops.map((li, i) => [i ? '; ' : '', li.textContent]).flat()));
  const hopList = h('ul', { id: 'hop-changes', hidden: true }, ...hops);
  out.push(hopList);
  return out;
}

function renderPassDetail(p) {
  const box = $('#pass-detail');
  if (!p) return box.replaceChildren();
  const parts = [h('div', { class: 'hop', id: 'hop' }, hopText(p))];
  if (p.decision) {
    const d = p.decision;
    parts.push(h('div', { class: 'small', id: 'decision' }, d.isNew
      ? `New connection for ${d.service}: ${d.scheduler} picked ${d.dest} — ${d.reason ?? ''}. Forwarding: ${d.mode}. State: ${d.state ?? '-'}.`
      : `Existing connection: the table says ${d.dest} (${d.mode}); state now ${d.state ?? '-'}.`));
  } else if (p.kind === 'reply') {
    parts.push(h('div', { class: 'small', id: 'decision' }, `Matched the connection from the real server's side (its reply); state now ${p.replyState ?? '-'}.`));
  }
  const sent = p.sent[0];
  if (sent) parts.push(...changeList(sent.frame));
  const recvBox = h('div', { class: 'frame received' }, h('h4', {}, `received on ${p.port ?? '-'}`), ...(p.received?.layers ?? []).map((l) => layerBox(l, 'received')));
  markWillChange(recvBox, sent?.frame);
  let sentBox;
  if (sent) {
    sentBox = h('div', { class: 'frame sent' },
      h('h4', {}, `sent on ${sent.port}${sent.releasedBy ? ` (after ${resolver(p)} resolved the next hop)` : ''}`), ...sent.frame.layers.map((l) => layerBox(l, 'sent')));
  } else {
    sentBox = h('div', { class: 'frame sent' }, h('h4', {}, 'sent'),
      h('p', { class: p.drops.length ? 'drop' : 'muted' }, p.drops.length ? `dropped: ${p.drops.join(', ')}` : p.held ? `held: waits for the next hop's MAC (${resolver(p)})` : 'nothing sent'));
  }
  parts.push(h('div', { class: 'frames' }, recvBox, sentBox));
  for (const more of p.sent.slice(1)) parts.push(h('div', { class: 'small muted' }, `also sent on ${more.port}: ${more.frame.summary}`));
  parts.push(replyPath(p));
  if (p.notes.length) parts.push(h('ul', { class: 'notes' }, ...p.notes.map((n) => h('li', {}, n))));
  box.replaceChildren(...parts);
}

// ---------- replay ----------
async function goTo(i) {
  if (i < 0 || i >= S.timeline.length) return;
  S.tlIndex = i;
  const r = await getJson(`/api/at?i=${i}`);
  if (S.tlIndex !== i) return; // a later step won
  $('#tl-range').value = String(i);
  const t0 = S.timeline[0]?.time ?? 0;
  if (r.tables) setTables(r.tables);
  if (r.walk) {
    if (S.walkKey !== r.walk.key || !S.walk) {
      S.walkKey = r.walk.key;
      S.walk = await getJson(`/api/walk?key=${encodeURIComponent(r.walk.key)}`);
      if (S.tlIndex !== i) return;
    }
    const k = S.walk.passes.findIndex((p) => p.id === r.pass.id);
    S.passIndex = k;
    S.pass = r.pass;
    renderWalks();
    renderWalk();
  } else {
    S.pass = r.pass;
    S.walkKey = null;
    S.walk = { walk: { key: '', proto: '', client: '', virtual: '', dest: '', mode: '', service: '', scheduler: '' }, passes: [r.pass], skipped: 0 };
    S.passIndex = 0;
    renderWalk();
    $('#walk-title').textContent = 'a frame of no connection';
  }
  renderDiagram();
  // the position last: whoever waits for it (a reader, a test) sees the frame fully shown
  $('#tl-pos').textContent = `frame ${i + 1} of ${S.timeline.length} · t = ${((r.pass.time - t0) / 1000).toFixed(3)} s`;
}

function stopPlaying() {
  S.playing = false;
  clearTimeout(S.playTimer);
  $('#tl-play').disabled = false;
  $('#tl-pause').disabled = true;
}

function playStep() {
  if (!S.playing) return;
  const i = S.tlIndex;
  if (i >= S.timeline.length - 1) return stopPlaying();
  const speed = Number($('#tl-speed').value) || 1;
  // the capture's own clock, with long idle gaps cut to two seconds
  const gap = Math.min(2000, Math.max(0, (S.timeline[i + 1].time - S.timeline[i].time) / speed));
  S.playTimer = setTimeout(async () => {
    await goTo(i + 1);
    playStep();
  }, gap);
}

async function startReplay(hello) {
  $('#timeline').hidden = false;
  $('#tl-capture').textContent = `${hello.capture}: ${hello.summary}${hello.timeline?.dropped ? ` (timeline holds the first ${hello.timeline.passes} frames)` : ''}`;
  const tl = await getJson('/api/timeline');
  S.timeline = tl.passes;
  $('#tl-range').max = String(Math.max(0, S.timeline.length - 1));
  const walks = await getJson('/api/walks');
  S.walks = walks;
  renderWalks();
  $('#tl-prev').onclick = () => { stopPlaying(); goTo(S.tlIndex - 1); };
  $('#tl-next').onclick = () => { stopPlaying(); goTo(S.tlIndex + 1); };
  $('#tl-range').oninput = (e) => { stopPlaying(); goTo(Number(e.target.value)); };
  $('#tl-play').onclick = () => {
    if (S.tlIndex >= S.timeline.length - 1) goTo(0);
    S.playing = true;
    $('#tl-play').disabled = true;
    $('#tl-pause').disabled = false;
    playStep();
  };
  $('#tl-pause').onclick = stopPlaying;
  $('#status').textContent = `replay · ${S.timeline.length} frames`;
  await goTo(0);
}

// ---------- live ----------
function startLive() {
  const es = new EventSource('/events');
  es.addEventListener('state', (e) => {
    const m = JSON.parse(e.data);
    setTables(m.tables, m.topology);
    $('#status').textContent = `live · updated ${new Date().toLocaleTimeString()}`;
  });
  es.addEventListener('walks', async (e) => {
    S.walks = JSON.parse(e.data);
    renderWalks();
    renderConns();
    renderOther();
    const w = S.walkKey && S.walks.find((x) => x.key === S.walkKey);
    if (w && S.walk && w.frames !== S.walk.walk.frames) {
      const keep = S.pass?.id;
      S.walk = await getJson(`/api/walk?key=${encodeURIComponent(S.walkKey)}`);
      const i = S.walk.passes.findIndex((p) => p.id === keep);
      S.passIndex = i >= 0 ? i : 0;
      S.pass = S.walk.passes[S.passIndex];
      renderWalk();
    }
  });
  es.onerror = () => { $('#status').textContent = 'connection to tapvs lost; retrying…'; };
}

async function main() {
  for (const b of document.querySelectorAll('#lesson-tabs button')) b.addEventListener('click', () => showLesson(b.dataset.lesson));
  $('#walk-prev').onclick = () => goToPass(S.passIndex - 1);
  $('#walk-next').onclick = () => goToPass(S.passIndex + 1);
  setInterval(tickExpiry, 250);
  const hello = await getJson('/api/hello');
  S.mode = hello.mode;
  S.topology = hello.topology;
  $('#source-mode').textContent = hello.mode === 'replay' ? 'replay' : 'live';
  document.body.dataset.source = hello.mode;
  if (hello.mode === 'replay') await startReplay(hello);
  else startLive();
  document.body.dataset.ready = '1';
}

main().catch((e) => { $('#status').textContent = `error: ${e.message}`; });
