// The dashboard page: draws the view the server pushes (Server-Sent Events), filters it, and opens one cell's details
// and log. Every string from a server goes into the page as text (textContent), never as markup.
'use strict'

const token = new URLSearchParams(location.search).get('token') || ''
const $ = (id) => document.getElementById(id)
// Shapes stand beside colours so a state never depends on colour alone.
const ICONS = {
  RUNNING: '●',
  STARTING: '◐',
  BACKOFF: '▲',
  STOPPED: '■',
  FATAL: '✖',
  EXITED: '✖',
  'NOT LOADED': '○',
  UNREACHABLE: '⚡',
  'DAEMON DOWN': '✖',
  OTHER: '?',
}
let view = null
let open = null // { domain, server }
let logStream = null
// What the last control action on each program said: kept apart, since the detail is drawn again every round.
const outcomes = new Map()

function el(tag, props, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props || {})) {
    if (key === 'class') node.className = value
    else if (key === 'text') node.textContent = value
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
    else node.setAttribute(key, value)
  }
  for (const child of children) if (child != null) node.append(child)
  return node
}

function stateClass(state) {
  return `state s-${String(state).replace(/ /g, '-')}`
}

function stateLabel(state) {
  return el('span', { class: stateClass(state) }, `${ICONS[state] || ICONS.OTHER} ${state}`)
}

function api(path, params) {
  const query = new URLSearchParams({ ...params, token })
  return `${path}?${query}`
}

// --- the grid ----------------------------------------------------------------------------------------------------

function filters() {
  return {
    site: $('filter-site').value,
    server: $('filter-server').value.trim().toLowerCase(),
    group: $('filter-group').value,
    problems: $('filter-problems').checked,
  }
}

function visibleServers(f) {
  return view.servers.filter(
    (s) => (!f.server || s.name.toLowerCase().includes(f.server)) && (!f.group || s.groups.includes(f.group)),
  )
}

function cellOf(domain, server) {
  return view.cells.find((c) => c.domain === domain && c.server === server)
}

function drawGrid() {
  const f = filters()
  const servers = visibleServers(f)
  const cells = new Map(view.cells.map((c) => [`${c.domain}|${c.server}`, c]))
  const sites = view.sites.filter((s) => !f.site || s.domain === f.site)
  const shown = servers.filter((s) =>
    sites.some((site) => {
      const c = cells.get(`${site.domain}|${s.name}`)
      return c && (!f.problems || c.problem)
    }),
  )
  const head = el('tr', null, el('th', { class: 'site', scope: 'col' }, 'site \\ server'))
  for (const s of shown) {
    const notes = [
      s.reached ? null : el('span', { class: 'badge s-UNREACHABLE' }, 'UNREACHABLE'),
      s.leftovers.length ? el('span', { class: 'badge', title: leftoverText(s) }, `LEFTOVERS ${s.leftovers.length}`) : null,
      s.siteDrift.length ? el('span', { class: 'badge', title: s.siteDrift.join('\n') }, 'SITE DRIFT') : null,
    ]
    head.append(el('th', { scope: 'col', title: s.error || s.groups.join(', ') }, s.name, ...notes))
  }
  const body = document.createDocumentFragment()
  body.append(el('thead', null, head))
  const rows = el('tbody')
  for (const site of sites) {
    const row = el('tr', null, el('th', { class: 'site', scope: 'row' }, site.domain))
    let any = false
    for (const s of shown) {
      const cell = cells.get(`${site.domain}|${s.name}`)
      if (!cell || (f.problems && !cell.problem)) {
        row.append(el('td'))
        continue
      }
      any = true
      row.append(el('td', { class: cell.problem ? 'problem' : '' }, cellButton(cell)))
    }
    if (any || !f.problems) rows.append(row)
  }
  body.append(rows)
  const grid = $('grid')
  const focused = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.key
  grid.replaceChildren(body)
  if (focused) {
    const again = grid.querySelector(`[data-key="${CSS.escape(focused)}"]`)
    if (again) again.focus()
  }
}

function cellButton(cell) {
  const lines = cell.programs.map((p) => {
    const worst = p.processes.length ? p.processes.map((x) => x.state).sort(bySeverity)[0] : 'NOT LOADED'
    return el(
      'span',
      { class: 'prog' },
      stateLabel(worst),
      ` ${p.program} ${p.running}/${p.expected}`,
      p.drift.length ? el('span', { class: 'badge', title: p.drift.join('\n') }, 'DRIFT') : null,
      p.stale ? el('span', { class: 'badge' }, 'STALE RELEASE') : null,
    )
  })
  if (cell.state === 'UNREACHABLE' || cell.state === 'DAEMON DOWN') lines.unshift(el('span', { class: 'prog' }, stateLabel(cell.state)))
  const label = `${cell.domain} on ${cell.server}: ${cell.state}${cell.problem ? ', needs attention' : ''}`
  return el(
    'button',
    {
      class: 'cell',
      type: 'button',
      'aria-label': label,
      'data-key': `${cell.domain}|${cell.server}`,
      onclick: () => openDetail(cell.domain, cell.server),
      onkeydown: moveFocus,
    },
    ...lines,
  )
}

const ORDER = ['FATAL', 'BACKOFF', 'EXITED', 'STOPPED', 'STARTING', 'RUNNING']
function bySeverity(a, b) {
  const rank = (s) => (ORDER.includes(s) ? ORDER.indexOf(s) : 3.5)
  return rank(a) - rank(b)
}

function leftoverText(server) {
  return server.leftovers.map((l) => `${l.path}: ${l.reason}`).join('\n')
}

// Arrow keys move between cells like a spreadsheet; Enter or Space opens one (a button's own behaviour).
function moveFocus(event) {
  const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] }
  const move = moves[event.key]
  if (!move) return
  const td = event.target.closest('td')
  const tr = td.parentElement
  const rows = [...tr.parentElement.children]
  let r = rows.indexOf(tr)
  let c = [...tr.children].indexOf(td)
  for (let step = 0; step < 200; step++) {
    r += move[0]
    c += move[1]
    const target = rows[r] && rows[r].children[c]
    if (!target) return
    const button = target.querySelector('button')
    if (button) {
      event.preventDefault()
      button.focus()
      return
    }
  }
}

function drawSummary() {
  const s = view.summary
  const problems = s.problems ? `${s.problems} problem${s.problems === 1 ? '' : 's'}` : 'no problems'
  $('summary').textContent =
    `${s.reached}/${s.servers} servers reached · ${s.running}/${s.wanted} processes running · ${problems}`
  $('connection').textContent = `read at ${new Date(view.at).toLocaleTimeString()}${view.allowControl ? ' · control allowed' : ' · read-only'}`
  const down = view.servers.filter((x) => !x.reached)
  $('servers-down').textContent = down.map((x) => `${x.name}: ${x.error}`).join(' · ')
}

function fillFilter(select, values) {
  const chosen = select.value
  const first = select.options[0]
  select.replaceChildren(first, ...values.map((v) => el('option', { value: v }, v)))
  select.value = values.includes(chosen) ? chosen : ''
}

function draw() {
  const started = performance.now()
  fillFilter($('filter-site'), view.sites.map((s) => s.domain))
  fillFilter($('filter-group'), [...new Set(view.servers.flatMap((s) => s.groups))].sort())
  drawSummary()
  drawGrid()
  if (open) drawDetail()
  // How long the last view took to draw: the browser test reads it for the README's 64 × 20 figure.
  document.body.dataset.drawMs = (performance.now() - started).toFixed(1)
}

// --- one cell's details and log ----------------------------------------------------------------------------------

function openDetail(domain, server) {
  const again = open && open.domain === domain && open.server === server
  open = { domain, server }
  $('detail').hidden = false
  drawDetail()
  if (!again) {
    const programs = cellOf(domain, server)?.programs || []
    fillLogPrograms(programs)
    followLog()
  }
  $('detail-close').focus()
}

function closeDetail() {
  const key = open && `${open.domain}|${open.server}`
  open = null
  $('detail').hidden = true
  if (logStream) logStream.close()
  logStream = null
  const back = key && $('grid').querySelector(`[data-key="${CSS.escape(key)}"]`)
  if (back) back.focus()
}

function fillLogPrograms(programs) {
  $('log-program').replaceChildren(...programs.map((p) => el('option', { value: p.program }, p.program)))
}

function drawDetail() {
  const cell = cellOf(open.domain, open.server)
  $('detail-title').textContent = `${open.domain} on ${open.server}`
  const body = $('detail-body')
  if (!cell) return body.replaceChildren(el('p', null, 'No longer in view (filtered out or not read this round).'))
  const parts = []
  if (cell.state === 'UNREACHABLE') {
    const server = view.servers.find((s) => s.name === open.server)
    parts.push(el('p', null, stateLabel('UNREACHABLE'), ` ${server ? server.error : ''}`))
  }
  for (const p of cell.programs) parts.push(programSection(p))
  body.replaceChildren(...parts)
}

function programSection(program) {
  const head = el('tr', null, ...['process', 'state', 'pid', 'uptime', 'release', 'note'].map((h) => el('th', { scope: 'col' }, h)))
  const rows = program.processes.map((x) =>
    el(
      'tr',
      null,
      el('td', null, x.name),
      el('td', null, stateLabel(x.state)),
      el('td', null, x.pid == null ? '' : String(x.pid)),
      el('td', null, x.uptime),
      el('td', null, x.release ? `${x.release}${x.stale ? ' (STALE: restart to pick up the deploy)' : ''}` : ''),
      el('td', null, x.note),
    ),
  )
  if (!rows.length) rows.push(el('tr', null, el('td', { colspan: '6' }, stateLabel('NOT LOADED'), ' supervisor has no such group')))
  return el(
    'section',
    null,
    el('h3', null, `${program.program} (${program.running}/${program.expected} running)`),
    el('table', null, el('thead', null, head), el('tbody', null, ...rows)),
    program.drift.length ? el('ul', { 'aria-label': 'Drift' }, ...program.drift.map((d) => el('li', null, `DRIFT: ${d}`))) : null,
    view.allowControl ? controls(program) : null,
  )
}

// --- control, only when the run allows it ------------------------------------------------------------------------

function controls(program) {
  const site = view.sites.find((s) => s.domain === open.domain)
  const everywhere = site ? site.servers : [open.server]
  const key = `${open.domain}|${open.server}|${program.program}`
  const result = el('p', { class: 'outcome', role: 'status', 'aria-live': 'polite', 'data-key': key }, outcomes.get(key) || '')
  const button = (label, action, servers, oneByOne) =>
    el('button', { type: 'button', onclick: () => act(program, action, servers, oneByOne, key) }, label)
  return el(
    'div',
    { class: 'controls' },
    button(`Start on ${open.server}`, 'start', [open.server], false),
    button(`Stop on ${open.server}`, 'stop', [open.server], false),
    button(`Restart on ${open.server}`, 'restart', [open.server], false),
    button(`Restart one by one on ${open.server}`, 'restart', [open.server], true),
    everywhere.length > 1 ? button(`Restart on all ${everywhere.length} servers`, 'restart', everywhere, false) : null,
    result,
  )
}

async function act(program, action, servers, oneByOne, key) {
  const how = oneByOne ? `${action} one process at a time` : action
  if (!confirm(`${how} ${open.domain} ${program.program} on ${servers.join(', ')}?`)) return
  const say = (text) => {
    outcomes.set(key, text)
    const shown = document.querySelector(`p.outcome[data-key="${CSS.escape(key)}"]`)
    if (shown) shown.textContent = text
  }
  say(`${how} ${program.program} on ${servers.join(', ')}…`)
  try {
    const answer = await fetch(api('/control', {}), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action, domain: open.domain, program: program.program, servers, oneByOne }),
    })
    const outcome = await answer.json()
    say(
      answer.ok
        ? `${how}: ${outcome.ok ? 'done' : `failed (exit ${outcome.exitCode})`}${describeOutcome(outcome.result)}`
        : `refused (${answer.status}): ${outcome.error}`,
    )
  } catch (error) {
    say(`${how}: ${error.message}`)
  }
}

function describeOutcome(result) {
  if (!result || !Array.isArray(result.servers)) return ''
  return ` — ${result.servers.map((s) => `${s.server}: ${s.ok ? 'ok' : s.error || 'failed'}`).join('; ')}`
}

// --- the log of one program on one server, following --------------------------------------------------------------

const LOG_LINES_KEPT = 2000

function followLog() {
  if (logStream) logStream.close()
  const log = $('log')
  log.replaceChildren()
  const program = $('log-program').value
  if (!open || !program) return
  $('log-title').textContent = `Log of ${open.domain} ${program} on ${open.server} (last 200 lines, following)`
  logStream = new EventSource(api('/logs', { server: open.server, domain: open.domain, program }))
  logStream.addEventListener('line', (event) => appendLog(JSON.parse(event.data)))
  logStream.addEventListener('failure', (event) => {
    appendLog(`[dashboard] ${JSON.parse(event.data)}`)
    logStream.close()
  })
  logStream.addEventListener('end', (event) => {
    appendLog(`[dashboard] ${JSON.parse(event.data)}`)
    logStream.close()
  })
}

function appendLog(line) {
  const log = $('log')
  const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4
  log.append(document.createTextNode(`${line}\n`))
  while (log.childNodes.length > LOG_LINES_KEPT) log.firstChild.remove()
  if (atEnd) log.scrollTop = log.scrollHeight
}

// --- wiring ------------------------------------------------------------------------------------------------------

function connect() {
  const events = new EventSource(api('/events', {}))
  events.addEventListener('view', (event) => {
    view = JSON.parse(event.data)
    document.body.dataset.at = view.at
    draw()
  })
  events.addEventListener('error', () => {
    $('connection').textContent = 'lost the dashboard (stopped?); retrying…'
  })
}

document.addEventListener('DOMContentLoaded', () => {
  for (const id of ['filter-site', 'filter-group', 'filter-problems']) $(id).addEventListener('change', () => view && drawGrid())
  $('filter-server').addEventListener('input', () => view && drawGrid())
  $('detail-close').addEventListener('click', closeDetail)
  $('log-program').addEventListener('change', followLog)
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && open) closeDetail()
  })
  connect()
})
