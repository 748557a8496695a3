// The topology as an SVG drawing: client, router (when the director has a
// gateway), the director with its ports and VIPs, and every real server of
// every service, with weight and connection counts. A selected pass lights
// the path its frame took, and where the reply goes.
const NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The address of 'addr:port' or '[addr]:port' (IPv6, as ipvsadm writes it). */
export function hostOf(dest) {
  const m = /^\[([^\]]*)\]:\d+$/.exec(dest);
  return m ? m[1] : dest.slice(0, dest.lastIndexOf(':') < 0 ? dest.length : dest.lastIndexOf(':'));
}

/** Real servers by address, with each service's line for them. */
export function realServers(tables) {
  const byAddr = new Map();
  for (const svc of tables?.services ?? []) {
    for (const d of svc.dests) {
      let rs = byAddr.get(d.addr);
      if (!rs) {
        rs = { addr: d.addr, name: d.name, mode: d.mode, via: d.via, lines: [], weight: 0, active: 0, inactive: 0, down: false };
        byAddr.set(d.addr, rs);
      }
      rs.lines.push({ svc: svc.label, port: d.port, weight: d.weight, active: d.active, inactive: d.inactive, health: d.health });
      // a failed health check on any of its services marks the server down
      if (d.health && !d.health.up) rs.down = true;
      rs.weight = Math.max(rs.weight, d.weight);
      rs.active += d.active;
      rs.inactive += d.inactive;
    }
  }
  return [...byAddr.values()];
}

function clientLabel(topology, tables) {
  if (topology.client) return { title: topology.client.name, lines: [topology.client.addr] };
  const seen = [];
  for (const c of tables?.conns ?? []) {
    if (c.template) continue;
    const a = c.source.split(':')[0];
    if (!seen.includes(a)) seen.push(a);
  }
  return { title: seen.length === 1 ? 'client' : 'clients', lines: seen.length ? seen.slice(0, 2) : ['(none seen yet)'] };
}

function box(g, x, y, w, h, title, lines, cls, data) {
  const n = el('g', { class: `node ${cls}`, ...data });
  n.append(el('rect', { x, y, width: w, height: h }));
  n.append(el('text', { x: x + 8, y: y + 16, class: 'title' }, title));
  lines.forEach((l, i) => n.append(el('text', { x: x + 8, y: y + 31 + i * 13 }, l)));
  g.append(n);
  return { x, y, w, h, cx: x + w / 2, cy: y + h / 2 };
}

const right = (b) => [b.x + b.w, b.cy];
const left = (b) => [b.x, b.cy];

/**
 * Draws `topology` + `tables` into `svg`. `hl` (optional): { kind: 'request'|'reply',
 * mode: 'NAT'|'DR'|'TUN', dest: 'addr:port' or '[addr]:port' } from the selected pass.
 */
export function drawDiagram(svg, topology, tables, hl) {
  svg.replaceChildren();
  if (!topology) return;
  const edges = el('g');
  const overlay = el('g');
  const nodes = el('g');
  svg.append(edges, overlay, nodes);
  const rss = realServers(tables);
  const router = topology.router;
  const clientDirect = topology.client ? !!topology.client.via?.port && !topology.client.via.gateway : !router;

  const cl = clientLabel(topology, tables);
  const client = box(nodes, 10, 135, 150, 30 + cl.lines.length * 13, cl.title, cl.lines, 'client', { 'data-node': 'client' });
  const rt = router ? box(nodes, 205, 135, 135, 44, 'router', [router.addr], 'router', { 'data-node': 'router' }) : null;

  const dirLines = [];
  for (const p of topology.ports) {
    dirLines.push(`${p.name} ${p.addrs.join(' ')}`);
    if (p.vips.length) dirLines.push(`  VIP ${p.vips.join(' ')}`);
  }
  for (const s of tables?.services ?? []) dirLines.push(`${s.label} ${s.scheduler}${s.persistentTimeout ? ` -p ${s.persistentTimeout}` : ''}`);
  const dh = 26 + dirLines.length * 13;
  const dir = box(nodes, 385, Math.max(8, 150 - dh / 2), 235, dh, 'tapvs director', dirLines, 'director', { 'data-node': 'director' });

  // one line per service the real server is in (three at most), so nothing spills out of its box
  const shown = Math.min(3, Math.max(1, ...rss.map((r) => r.lines.length)));
  const h = 34 + shown * 13;
  const gap = rss.length > 3 ? 6 : 10;
  const total = rss.length * h + Math.max(0, rss.length - 1) * gap;
  let y = Math.max(6, 160 - total / 2);
  const rsBoxes = new Map();
  for (const rs of rss) {
    const lines = [`${rs.addr} · ${rs.mode}`];
    for (const l of rs.lines.slice(0, shown)) {
      const hc = l.health ? (l.health.up ? ' ✓' : ' DOWN') : '';
      lines.push(`${l.svc.split(' ')[0]} :${l.port} w${l.weight} act ${l.active} inact ${l.inactive}${hc}`);
    }
    const chosen = hl && hl.dest && hostOf(hl.dest) === rs.addr;
    const b = box(nodes, 685, y, 205, h, rs.name ?? 'real server', lines,
      `rs${chosen ? ' chosen' : ''}${rs.weight === 0 ? ' quiescent' : ''}${rs.down ? ' down' : ''}`, { 'data-node': 'rs', 'data-addr': rs.addr, 'data-health': rs.down ? 'down' : 'ok' });
    rsBoxes.set(rs.addr, { box: b, rs });
    y += h + gap;
  }

  const paths = new Map();
  const edge = (id, d, label, cls = '') => {
    paths.set(id, d);
    edges.append(el('path', { d, class: `edge ${cls}`, 'data-edge': id }));
    if (label) {
      const m = /M\s*([\d.]+)\s+([\d.]+).*?([\d.]+)\s+([\d.]+)\s*$/.exec(d);
      if (m) edges.append(el('text', { x: (Number(m[1]) + Number(m[3])) / 2 - 14, y: (Number(m[2]) + Number(m[4])) / 2 - 5, class: 'edge-label' }, label));
    }
  };
  const line = (a, b) => `M ${a[0]} ${a[1]} L ${b[0]} ${b[1]}`;
  const portFacing = (gw) => topology.ports.find((p) => p.name === gw)?.name ?? '';

  if (clientDirect || !rt) edge('client-director', line(right(client), left(dir)), topology.client?.via?.port ?? portFacing(router?.port) ?? '');
  else edge('client-router', line(right(client), left(rt)), '');
  if (rt) edge('router-director', line(right(rt), left(dir)), router.port ?? '');
  for (const { box: b, rs } of rsBoxes.values()) {
    if (rs.via?.gateway && rt) {
      // behind the router (TUN to another subnet): under the director, to the router
      edge(`router-rs-${rs.addr}`, `M ${rt.cx} ${rt.y + rt.h} C ${rt.cx} 320, ${b.x - 60} ${b.cy}, ${b.x} ${b.cy}`, '');
    } else {
      edge(`director-rs-${rs.addr}`, line(right(dir), left(b)), rs.via?.port ?? '');
      // same LAN as the router (DR): the real server's replies go to the router directly
      if (rt && rs.mode !== 'NAT') edge(`rs-router-${rs.addr}`, `M ${b.x} ${b.cy + 10} C ${b.x - 120} 320, ${rt.cx + 40} 320, ${rt.cx} ${rt.y + rt.h}`, '', 'replyonly');
    }
  }

  if (!hl || !hl.dest) return;
  const addr = hostOf(hl.dest);
  const light = (ids, cls, shift = 0) => {
    for (const id of ids) {
      const d = paths.get(id);
      if (d) overlay.append(el('path', { d, class: `edge ${cls}`, transform: shift ? `translate(0 ${shift})` : undefined, 'data-lit': `${cls}:${id}` }));
    }
  };
  const toDirector = clientDirect || !rt ? ['client-director'] : ['client-router', 'router-director'];
  const viaGw = paths.has(`router-rs-${addr}`);
  const toRs = viaGw ? ['router-director', `router-rs-${addr}`] : [`director-rs-${addr}`];
  if (hl.mode === 'NAT') {
    light([...toDirector, ...toRs], hl.kind === 'reply' ? 'rep' : 'req');
    if (hl.kind !== 'reply') light([...toDirector, ...toRs], 'rep', 5);
    return;
  }
  light([...toDirector, ...toRs], 'req');
  // DR / TUN: the reply leaves the real server for the router (or the client) and never meets the director
  const back = viaGw ? [`router-rs-${addr}`] : paths.has(`rs-router-${addr}`) ? [`rs-router-${addr}`] : [];
  const rest = rt && !clientDirect ? ['client-router'] : [];
  light([...back, ...rest], 'bypass', 6);
}
