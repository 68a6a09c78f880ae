// Switchyard dashboard: polls /status (same origin, read only) and draws the
// routing state, per-pool rates and server health. Plain JS, no framework;
// CSP default-src 'self' allows this file but no inline script or style, so
// every style change goes through the CSSOM (element.style), never markup.
'use strict';

(() => {
  const POLL_MS = 1000;            // one /status a second
  const FETCH_TIMEOUT_MS = 2500;   // then the poll counts as failed
  const HISTORY_MS = 3 * 60 * 1000;
  const KNOWN_COLOURS = { blue: '#4c8dff', green: '#2fbf71' };
  const PALETTE = ['#b48cff', '#ff9f43', '#3cc8d8', '#ff7aa8', '#c9d43f', '#e0e0e0'];

  const $ = (id) => document.getElementById(id);
  const pools = new Map();  // name -> { card, history: [...], refs }
  let lastOk = 0;

  // --- formatting ------------------------------------------------------------
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  function fmt(v, digits) {
    if (!isNum(v)) return '–';
    if (digits !== undefined) return v.toFixed(digits);
    const a = Math.abs(v);
    if (a === 0) return '0';
    if (a < 1) return v.toFixed(2);
    if (a < 10) return v.toFixed(1);
    return Math.round(v).toString();
  }
  const fmtPct = (ratio) => (isNum(ratio) ? fmt(ratio * 100, ratio < 0.01 ? 2 : 1) + ' %' : '–');
  const fmtWeight = (w) => String(Number(Number(w).toFixed(2)));

  function colourOf(name) {
    if (KNOWN_COLOURS[name]) return KNOWN_COLOURS[name];
    let h = 0;
    for (const c of String(name)) h = (h * 31 + c.codePointAt(0)) >>> 0;
    return PALETTE[h % PALETTE.length];
  }
  function setColour(el, name) {
    if (name) el.style.setProperty('--pool', colourOf(name));
    else el.style.removeProperty('--pool');
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // --- rates: the 10 s window for the charts, 60 s as numbers ----------------
  function windowOf(pool, key) {
    const r = pool && pool.rates;
    return r && typeof r === 'object' && r[key] && typeof r[key] === 'object' ? r[key] : null;
  }
  function sampleOf(pool, t) {
    const w = windowOf(pool, '10s');
    if (!w) return { t, gap: true };
    return {
      t,
      rps: w.requests_per_second,
      eps: w.errors_per_second,
      ratio: w.error_ratio,
      p50: w.p50_ms,
      p90: w.p90_ms,
      p99: w.p99_ms,
    };
  }

  // --- charts ----------------------------------------------------------------
  function niceMax(v, floor) {
    const m = Math.max(v, floor);
    const p = Math.pow(10, Math.floor(Math.log10(m)));
    for (const k of [1, 2, 2.5, 5, 10]) if (m <= k * p) return k * p;
    return 10 * p;
  }

  // series: [{ key, colour, width, fill }]; history of samples; shared max.
  function drawChart(canvas, history, series, max, unit, now) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, w, h);
    const top = 4 * dpr;
    const bottom = h - 2 * dpr;
    const x = (t) => w - ((now - t) / HISTORY_MS) * w;
    const y = (v) => bottom - (Math.min(v, max) / max) * (bottom - top);

    // grid: a line a minute, the top and middle of the scale
    g.strokeStyle = '#2c3948';
    g.lineWidth = 1;
    g.beginPath();
    for (let m = 1; m * 60000 < HISTORY_MS; m++) {
      const gx = Math.round(x(now - m * 60000)) + 0.5;
      g.moveTo(gx, top);
      g.lineTo(gx, bottom);
    }
    for (const f of [0, 0.5, 1]) {
      const gy = Math.round(top + f * (bottom - top)) + 0.5;
      g.moveTo(0, gy);
      g.lineTo(w, gy);
    }
    g.stroke();

    let any = false;
    for (const s of series) {
      // polylines broken at gaps (failed polls, missing values)
      const runs = [];
      let run = [];
      for (const p of history) {
        const v = p.gap ? undefined : p[s.key];
        if (isNum(v)) run.push([x(p.t), y(v)]);
        else if (run.length) {
          runs.push(run);
          run = [];
        }
      }
      if (run.length) runs.push(run);
      for (const r of runs) {
        any = true;
        if (s.fill && r.length > 1) {
          g.beginPath();
          g.moveTo(r[0][0], bottom);
          for (const [px, py] of r) g.lineTo(px, py);
          g.lineTo(r[r.length - 1][0], bottom);
          g.closePath();
          g.fillStyle = s.fill;
          g.fill();
        }
        g.beginPath();
        r.forEach(([px, py], i) => (i ? g.lineTo(px, py) : g.moveTo(px, py)));
        if (r.length === 1) g.lineTo(r[0][0] + 2 * dpr, r[0][1]);
        g.strokeStyle = s.colour;
        g.lineWidth = s.width * dpr;
        g.lineJoin = 'round';
        g.stroke();
      }
    }

    g.font = `${11 * dpr}px system-ui, "DejaVu Sans", sans-serif`;
    g.fillStyle = '#93a1b0';
    g.textBaseline = 'top';
    g.fillText(`${fmt(max)} ${unit}`, 4 * dpr, top + 1 * dpr);
    if (!any) {
      g.textBaseline = 'middle';
      g.textAlign = 'center';
      g.fillText('no data yet', w / 2, (top + bottom) / 2);
      g.textAlign = 'left';
    }
  }

  function alpha(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
  }

  function drawAll() {
    const now = Date.now();
    let maxErr = 0;
    let maxLat = 0;
    for (const p of pools.values()) {
      for (const s of p.history) {
        if (s.gap) continue;
        if (isNum(s.ratio)) maxErr = Math.max(maxErr, s.ratio * 100);
        if (isNum(s.p99)) maxLat = Math.max(maxLat, s.p99);
        else if (isNum(s.p90)) maxLat = Math.max(maxLat, s.p90);
      }
    }
    // Errors and latency on the same scale for every pool: the candidate is
    // compared at a glance. Request rates on each pool's own scale, so that
    // a small canary share still shows its trend (the split bar compares).
    const errMax = niceMax(maxErr * 1.1, 1);
    const latMax = niceMax(maxLat * 1.1, 1);
    for (const [name, p] of pools) {
      const c = colourOf(name);
      const rpsMax = niceMax(
        1.1 * p.history.reduce((m, s) => (!s.gap && isNum(s.rps) ? Math.max(m, s.rps) : m), 0), 1);
      drawChart(p.refs.rpsCanvas, p.history,
        [{ key: 'rps', colour: c, width: 2, fill: alpha(c, 0.18) }], rpsMax, 'req/s', now);
      drawChart(p.refs.errCanvas, p.history,
        [{ key: 'ratioPct', colour: '#ff5d5d', width: 2, fill: 'rgba(255, 93, 93, 0.15)' }],
        errMax, '% 5xx', now);
      drawChart(p.refs.latCanvas, p.history, [
        { key: 'p50', colour: alpha(c, 0.45), width: 1.5 },
        { key: 'p90', colour: alpha(c, 0.75), width: 1.5 },
        { key: 'p99', colour: c, width: 2 },
      ], latMax, 'ms', now);
    }
  }

  // --- one card per pool -------------------------------------------------------
  function metricBlock(name) {
    const box = el('div', 'metric');
    const head = el('div', 'metric-head');
    const label = el('span', 'name', name);
    const now = el('span', 'now', '–');
    const avg = el('span', 'avg', '');
    head.append(label, now, avg);
    const canvas = el('canvas');
    box.append(head, canvas);
    return { box, now, avg, canvas };
  }

  function makeCard(name) {
    const card = el('section', 'pool');
    card.id = `pool-${name}`;
    setColour(card, name);
    const head = el('div', 'pool-head');
    const title = el('span', 'pool-name', name);
    const role = el('span', 'role', '');
    const stats = el('span', 'pool-stats', '');
    head.append(title, role, stats);

    const rps = metricBlock('requests/s');
    const err = metricBlock('5xx');
    const lat = metricBlock('latency');

    const table = el('table', 'servers');
    const thead = el('thead');
    const hr = el('tr');
    for (const [t, num] of [['server', false], ['health', false], ['admin', false], ['weight', true],
      ['in-flight', true], ['requests', true], ['failures', true]]) {
      hr.append(el('th', num ? 'num' : '', t));
    }
    thead.append(hr);
    const tbody = el('tbody');
    table.append(thead, tbody);

    card.append(head, rps.box, err.box, lat.box, table);
    return {
      card,
      history: [],
      refs: {
        role, stats, tbody,
        rpsNow: rps.now, rpsAvg: rps.avg, rpsCanvas: rps.canvas,
        errNow: err.now, errAvg: err.avg, errCanvas: err.canvas,
        latNow: lat.now, latAvg: lat.avg, latCanvas: lat.canvas,
      },
    };
  }

  function statsText(target, parts) {
    target.replaceChildren();
    parts.forEach(([label, value], i) => {
      if (i) target.append(' · ');
      target.append(`${label} `);
      target.append(el('b', '', String(value ?? '–')));
    });
  }

  function renderServers(tbody, servers) {
    const rows = [];
    for (const s of servers || []) {
      const tr = el('tr');
      tr.append(el('td', 'addr', s.address ?? '?'));
      const health = typeof s.health === 'string' ? s.health : 'no checks';
      const hb = el('span', `badge ${health.replace(/\s/g, '-')}`, health);
      const why = [s.reason, s.last_check].filter((v) => v).join(' · ');
      if (why) hb.title = why;
      if (isNum(s.ejections) && s.ejections > 0) hb.textContent += ` (${s.ejections} ej.)`;
      const td = el('td');
      td.append(hb);
      tr.append(td);
      const ad = el('td');
      ad.append(el('span', `badge ${s.admin || ''}`, s.admin || '–'));
      tr.append(ad);
      tr.append(el('td', 'num', fmt(s.weight, 0)));
      tr.append(el('td', 'num', fmt(s.inflight, 0)));
      tr.append(el('td', 'num', fmt(s.requests, 0)));
      tr.append(el('td', 'num', fmt(s.failures, 0)));
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
  }

  function renderPool(p, pool) {
    const r = p.refs;
    r.role.textContent = pool.role || '';
    r.role.dataset.role = pool.role || '';
    p.card.dataset.role = pool.role || '';
    statsText(r.stats, [
      ['in-flight', pool.inflight],
      ['tunnels', pool.tunnels],
      ['idle conns', pool.idle_connections],
      ['retries', pool.retries],
    ]);
    const w10 = windowOf(pool, '10s');
    const w60 = windowOf(pool, '60s');
    r.rpsNow.textContent = w10 ? fmt(w10.requests_per_second) : '–';
    r.rpsAvg.textContent = w60 ? `60 s: ${fmt(w60.requests_per_second)} req/s` : 'no rates reported';
    r.errNow.textContent = w10 ? `${fmtPct(w10.error_ratio)}  ${fmt(w10.errors_per_second)}/s` : '–';
    r.errNow.classList.toggle('bad', !!w10 && isNum(w10.error_ratio) && w10.error_ratio > 0);
    r.errAvg.textContent = w60 ? `60 s: ${fmtPct(w60.error_ratio)}` : '';
    // p50 faint, p90 mid, p99 full: as the chart's lines
    r.latNow.replaceChildren();
    if (w10) {
      r.latNow.append(el('span', 'q50', `p50 ${fmt(w10.p50_ms)}`), ' · ',
        el('span', 'q90', `p90 ${fmt(w10.p90_ms)}`), ' · ',
        el('span', 'q99', `p99 ${fmt(w10.p99_ms)}`), ' ms');
    } else {
      r.latNow.textContent = '–';
    }
    r.latAvg.textContent = w60 ? `60 s: p99 ${fmt(w60.p99_ms)} ms` : '';
    renderServers(r.tbody, pool.servers);
  }

  // --- the whole page ----------------------------------------------------------
  function canaryOf(s) {
    const c = s.canary;
    if (!c || typeof c !== 'object' || !c.pool || !(Number(c.weight) > 0)) return null;
    return { pool: String(c.pool), weight: Number(c.weight) };
  }

  // The ramp (status's "ramp"): its steps, where it is, why, and the last
  // verdict with both sides' numbers.
  function renderRamp(r, aborts) {
    const box = $('ramp');
    box.hidden = !r;
    if (r) {
      box.dataset.state = String(r.state);
      $('ramp-title').textContent = `Ramp of ${r.pool}`;
      $('ramp-state').textContent = String(r.state);
      const steps = $('ramp-steps');
      steps.textContent = '';
      (Array.isArray(r.steps) ? r.steps : []).forEach((w, i) => {
        const cls = i + 1 < r.step ? 'ramp-step done' : i + 1 === r.step ? 'ramp-step current' : 'ramp-step';
        steps.appendChild(el('span', cls, `${fmtWeight(w)} %`));
      });
      const left = isNum(r.bake_left_s) && r.bake_left_s > 0 ? ` · bake left ${fmt(r.bake_left_s, 0)} s` : '';
      const held = isNum(r.hold_s) && r.hold_s > 0 ? ` · holding for ${fmt(r.hold_s, 0)} s` : '';
      $('ramp-reason').textContent = `${r.reason || ''}${left}${held}`;
      // The last three verdicts, newest first, each with both sides' numbers.
      const list = $('ramp-verdict');
      list.textContent = '';
      for (const v of (Array.isArray(r.verdicts) ? r.verdicts : []).slice(0, 3)) {
        list.appendChild(el('div', `ramp-verdict-${v.verdict}`, String(v.text)));
      }
    }
    const abox = $('aborts');
    abox.hidden = aborts.length === 0;
    abox.textContent = aborts.length
      ? `Aborted by the canary analysis, not acknowledged (ramp ack): ${aborts.map((a) => `${a.pool}: ${a.reason}`).join('; ')}`
      : '';
  }

  // Feature flags (status's "flags"): each with its share, pools and
  // requests; hidden when the config has none.
  function renderFlags(flags) {
    $('flags').hidden = flags.length === 0;
    const body = $('flags-body');
    body.textContent = '';
    for (const f of flags) {
      const tr = el('tr', 'flag');
      tr.dataset.flag = String(f.name);
      const pct = Number(f.percent);
      const bar = el('div', 'bar');
      const fill = el('div', 'bar-fill');
      fill.style.width = `${Math.min(100, Math.max(0, pct))}%`;
      bar.appendChild(fill);
      const share = el('td', 'flag-percent', `${fmt(pct, 3)} %`);
      share.appendChild(bar);
      const pools = Array.isArray(f.pools) && f.pools.length ? f.pools.join(', ') : 'any';
      tr.append(el('td', 'flag-name', String(f.name)), share, el('td', 'flag-pools', pools),
        el('td', 'flag-requests', String(f.requests ?? '–')),
        el('td', 'hint', f.description ? String(f.description) : ''));
      body.appendChild(tr);
    }
  }

  // Dark launch (status's "shadow"): the pool, its share, the pool's
  // health (shown, never a gate) and the copies by result; hidden when off.
  function renderShadow(sh) {
    const on = !!sh && typeof sh.pool === 'string';
    $('shadow').hidden = !on;
    if (!on) return;
    $('shadow-pool').textContent = sh.pool;
    const pct = Number(sh.percent);
    const cell = $('shadow-percent');
    cell.textContent = `${fmt(pct, 3)} %`;
    const bar = el('div', 'bar');
    const fill = el('div', 'bar-fill');
    fill.style.width = `${Math.min(100, Math.max(0, pct))}%`;
    bar.appendChild(fill);
    cell.appendChild(bar);
    $('shadow-sample').textContent = String(sh.sample ?? '–');
    $('shadow-diff').textContent = sh.diff ? 'on' : 'off';
    const h = sh.health;
    $('shadow-health').textContent = h && isNum(h.healthy) ? `${h.healthy}/${h.servers}` : '–';
    const r = sh.requests && typeof sh.requests === 'object' ? sh.requests : {};
    $('shadow-requests').textContent = Object.keys(r).map((k) => `${k} ${r[k]}`).join(' · ') || '–';
    if (sh.diff) fetchDiff();
    else $('diff').hidden = true;
  }

  // The comparison per route (/diff), while diff is on: what the candidate
  // differs on (not noise), with rates, and what is noise.
  async function fetchDiff() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch('/diff', { cache: 'no-store', signal: ctl.signal });
      if (res.ok) renderDiff(await res.json());
    } catch (e) {
      // the status poll reports the connection
    } finally {
      clearTimeout(timer);
    }
  }

  function renderDiff(d) {
    const routes = d && Array.isArray(d.routes) ? d.routes : [];
    $('diff').hidden = routes.length === 0;
    const body = $('diff-body');
    body.replaceChildren();
    const rate = (f) => `${f.field} ${fmt(Number(f.rate) * 100, 1)} %`;
    for (const r of routes) {
      const fields = Array.isArray(r.fields) ? r.fields : [];
      const tr = el('tr');
      tr.append(el('td', 'flag-name', String(r.route)), el('td', '', String(r.compared ?? '–')),
        el('td', '', String(r.equal ?? '–')),
        el('td', 'diff-differs', fields.filter((f) => !f.noise).map(rate).join(' · ') || 'none'),
        el('td', 'hint', fields.filter((f) => f.noise).map(rate).join(' · ')));
      body.appendChild(tr);
    }
  }

  function render(s) {
    const now = Date.now();
    const active = String(s.active ?? '–');
    $('active-pool').textContent = active;
    setColour($('active-tile'), s.active);
    document.title = `${active} active · Switchyard`;

    const canary = canaryOf(s);
    const tile = $('canary-tile');
    tile.classList.toggle('none', !canary);
    setColour(tile, canary && canary.pool);
    $('canary').textContent = canary ? `${canary.pool} ${fmtWeight(canary.weight)} %` : 'none';
    $('canary-bar').style.width = canary ? `${Math.min(100, canary.weight)}%` : '0';

    $('previous-pool').textContent = s.previous ? String(s.previous) : '–';
    $('generation').textContent = String(s.generation ?? '–');
    $('config-generation').textContent = String(s.config_generation ?? '–');
    $('updated').textContent = new Date(now).toLocaleTimeString();

    const conflicts = Array.isArray(s.conflicts) ? s.conflicts : [];
    const cbox = $('conflicts');
    cbox.hidden = conflicts.length === 0;
    cbox.textContent = conflicts.length ? `State conflicts: ${conflicts.join('; ')}` : '';

    renderRamp(s.ramp, Array.isArray(s.unacknowledged_aborts) ? s.unacknowledged_aborts : []);
    renderFlags(Array.isArray(s.flags) ? s.flags : []);
    renderShadow(s.shadow);

    // pools: cards created once and kept in config order
    const list = Array.isArray(s.pools) ? s.pools : [];
    const seen = new Set();
    const main = $('pools');
    for (const pool of list) {
      const name = String(pool.name);
      seen.add(name);
      let p = pools.get(name);
      if (!p) {
        p = makeCard(name);
        pools.set(name, p);
      }
      if (p.card.parentNode !== main || main.children[seen.size - 1] !== p.card) {
        main.insertBefore(p.card, main.children[seen.size - 1] || null);
      }
      const sample = sampleOf(pool, now);
      if (!sample.gap) sample.ratioPct = isNum(sample.ratio) ? sample.ratio * 100 : undefined;
      p.history.push(sample);
      while (p.history.length && p.history[0].t < now - HISTORY_MS) p.history.shift();
      renderPool(p, pool);
    }
    for (const [name, p] of pools) {
      if (!seen.has(name)) {
        p.card.remove();
        pools.delete(name);
      }
    }
    renderSplit(list);
    drawAll();
  }

  function renderSplit(list) {
    const split = $('split');
    const legend = $('split-legend');
    const parts = list
      .map((pool) => ({ name: String(pool.name), rps: (windowOf(pool, '10s') || {}).requests_per_second }))
      .filter((x) => isNum(x.rps));
    const total = parts.reduce((a, x) => a + x.rps, 0);
    split.replaceChildren();
    legend.replaceChildren();
    if (!parts.length) {
      legend.textContent = 'no rates reported';
      return;
    }
    if (total <= 0) {
      legend.textContent = 'no requests';
      return;
    }
    parts.forEach((x) => {
      if (x.rps <= 0) return;
      const seg = el('div');
      setColour(seg, x.name);
      seg.style.width = `${(x.rps / total) * 100}%`;
      seg.title = `${x.name}: ${fmt(x.rps)} req/s`;
      split.append(seg);
      const item = el('span');
      setColour(item, x.name);
      item.append(el('b', '', x.name), ` ${fmt((x.rps / total) * 100, 1)} %`);
      if (legend.childNodes.length) legend.append('  ·  ');
      legend.append(item);
    });
  }

  function setConnection(ok, why) {
    const conn = $('conn');
    conn.dataset.state = ok ? 'live' : 'down';
    document.body.classList.toggle('stale', !ok);
    if (ok) {
      $('conn-text').textContent = 'live';
      return;
    }
    const since = lastOk ? ` (last update ${Math.round((Date.now() - lastOk) / 1000)} s ago)` : '';
    $('conn-text').textContent = `disconnected: ${why}; retrying${since}`;
    const now = Date.now();
    for (const p of pools.values()) {
      p.history.push({ t: now, gap: true });
      while (p.history.length && p.history[0].t < now - HISTORY_MS) p.history.shift();
    }
    drawAll();
  }

  async function poll() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch('/status', { cache: 'no-store', signal: ctl.signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const s = await res.json();
      if (!s || s.ok !== true) throw new Error((s && s.error) || 'status not ok');
      render(s);
      lastOk = Date.now();
      setConnection(true);
    } catch (e) {
      setConnection(false, e && e.name === 'AbortError' ? 'timeout' : (e && e.message) || 'error');
    } finally {
      clearTimeout(timer);
      setTimeout(poll, POLL_MS);
    }
  }

  window.addEventListener('resize', drawAll);
  poll();
})();
