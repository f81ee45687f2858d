import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

// lib/supervisor/supervisor.py makes its XML-RPC calls by hand (xmlrpc.client would cost more than half of its
// start-up): here against Python's own xmlrpc.server, on a unix socket and over TCP, with every type supervisord
// sends, text that needs escaping, a Fault, an HTTP error and a daemon that is not there.

const SCRIPT = fileURLToPath(new URL('../../lib/supervisor/supervisor.py', import.meta.url))

// A stand-in supervisord: the calls supervisor.py makes, answered by xmlrpc.server's own marshalling.
const FAKE_DAEMON = `
import socket, sys
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler
from xmlrpc.client import Fault

PROCESSES = [
    {'name': 'w_00', 'group': 'a.test-w', 'statename': 'RUNNING', 'state': 20, 'pid': 0, 'exitstatus': 0,
     'description': 'pid 0, uptime 0:00:05', 'spawnerr': '', 'stdout_logfile': '', 'stderr_logfile': '',
     'now': 1700000000, 'ratio': 0.5, 'flag': True, 'none': False},
    {'name': 'w_01', 'group': 'b <&> "q" \\u00e9\\u20ac', 'statename': 'FATAL', 'state': 200, 'pid': 0,
     'description': 'Exited too quickly (process log may have details)', 'spawnerr': 'can\\'t find command', 'exitstatus': 1,
     'stdout_logfile': '', 'stderr_logfile': '', 'now': 1700000000, 'ratio': 1.25, 'flag': False, 'none': True},
]

def stop_process_group(name, wait=True):
    raise Fault(10, 'BAD_NAME: ' + name)

def start_process(name, wait=True):
    if name.endswith(':missing'):
        raise Fault(10, 'BAD_NAME: ' + name)
    return True

class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ('/RPC2',)
    disable_nagle_algorithm = False  # TCP_NODELAY fails on a unix socket

class UnixServer(SimpleXMLRPCServer):
    address_family = socket.AF_UNIX

if sys.argv[1] == 'unix':
    server = UnixServer(sys.argv[2], requestHandler=Handler, logRequests=False)
else:
    server = SimpleXMLRPCServer(('127.0.0.1', 0), requestHandler=Handler, logRequests=False)
server.register_function(lambda: PROCESSES, 'supervisor.getAllProcessInfo')
server.register_function(lambda: [[['added'], ['changed <x>'], []]], 'supervisor.reloadConfig')
server.register_function(stop_process_group, 'supervisor.stopProcessGroup')
server.register_function(start_process, 'supervisor.startProcess')
print(server.server_address[1] if sys.argv[1] == 'tcp' else 'ready', flush=True)
server.serve_forever()
`

interface Daemon {
  url: string
  stop(): void
}

async function startDaemon(kind: 'unix' | 'tcp', dir: string): Promise<Daemon> {
  const socket = path.join(dir, 'supervisor.sock')
  const child: ChildProcess = spawn('python3', ['-I', '-c', FAKE_DAEMON, kind, socket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [first] = await new Promise<string[]>((resolve) =>
    createInterface({ input: child.stdout! }).once('line', (line) => resolve([line])),
  )
  return {
    url: kind === 'unix' ? `unix://${socket}` : `http://127.0.0.1:${first}`,
    stop: () => child.kill('SIGKILL'),
  }
}

async function supervisorPy(dir: string, command: string, args: string[]) {
  const config = path.join(dir, 'supervisord.conf')
  writeFileSync(config, `[unix_http_server]\nfile=${dir}/unused.sock\n[include]\nfiles = ${dir}/conf.d/*.conf\n`)
  const run = await execa('python3', ['-I', SCRIPT, command, '--config', config, ...args], { reject: false })
  if (!run.stdout.trim()) throw new Error(`supervisor.py ${command}: no output; stderr: ${run.stderr}`)
  return { exitCode: run.exitCode, document: JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}'), run }
}

for (const kind of ['unix', 'tcp'] as const) {
  test(`${kind}: structs, arrays, ints, doubles, booleans and escaped text arrive as supervisord sent them`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zxs-rpc-'))
    const daemon = await startDaemon(kind, dir)
    try {
      const { exitCode, document } = await supervisorPy(dir, 'processes', ['--serverurl', daemon.url])
      assert.is(exitCode, 0)
      assert.equal(document.unknown, [])
      const [first, second] = document.processes
      assert.equal(
        [first.name, first.state, first.ratio, first.flag, first.none, first.spawnerr],
        ['w_00', 20, 0.5, true, false, ''],
      )
      assert.equal(
        [second.group, second.statename, second.ratio, second.flag, second.spawnerr],
        ['b <&> "q" é€', 'FATAL', 1.25, false, "can't find command"],
      )

      const reread = await supervisorPy(dir, 'reread', ['--serverurl', daemon.url])
      assert.is(reread.exitCode, 0)
      assert.equal(reread.document, { ok: true, added: ['added'], changed: ['changed <x>'], removed: [], message: '' })
    } finally {
      daemon.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

test('a Fault is supervisor refusing one call, reported in its words; the run goes on', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'zxs-rpc-'))
  const daemon = await startDaemon('unix', dir)
  try {
    const { exitCode, document } = await supervisorPy(dir, 'control', [
      '--serverurl',
      daemon.url,
      '--action',
      'start',
      '--process',
      'a.test-w:w_00',
      '--process',
      'a.test-w:missing',
    ])
    assert.is(exitCode, 0)
    assert.equal(document.lines, ['a.test-w:w_00: started', 'a.test-w:missing: ERROR (no such process)'])
  } finally {
    daemon.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('no daemon on the socket: `read` says supervisord is not running; other commands exit 3', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'zxs-rpc-'))
  try {
    const read = await supervisorPy(dir, 'read', ['--serverurl', `unix://${dir}/none.sock`, '--status'])
    assert.is(read.exitCode, 0)
    assert.is(read.document.daemon.running, false)
    assert.match(read.document.daemon.message, /^supervisord does not answer on its socket \(\[Errno 2\]/)
    const processes = await supervisorPy(dir, 'processes', ['--serverurl', 'http://127.0.0.1:1'])
    assert.is(processes.exitCode, 3)
    assert.match(processes.document.message, /Connection refused/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
