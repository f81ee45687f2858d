import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RemoteError } from '../../lib/errors.ts'
import { parseLiveState } from '../../lib/sync/read-state.ts'
import { thrown } from '../helpers/input-error.ts'

// lib/supervisor/supervisor.py's layout discovery, run here on config files of each distribution's shape (its
// `layout` command reads only the config: no supervisord needed), and the client refusing a cut-short answer.

const SCRIPT = fileURLToPath(new URL('../../lib/supervisor/supervisor.py', import.meta.url))

async function layoutOf(config: string, extra: string[] = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zxs-layout-'))
  try {
    const file = path.join(dir, 'supervisord.conf')
    writeFileSync(file, config)
    const run = await execa('python3', ['-I', SCRIPT, 'layout', '--config', file, ...extra], { reject: false })
    return {
      dir,
      exitCode: run.exitCode,
      document: JSON.parse(run.stdout) as { layout?: Record<string, string>; message?: string },
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('Debian: conf.d/*.conf, the socket, logs beside supervisord.log', async () => {
  const { exitCode, document } = await layoutOf(
    '[unix_http_server]\nfile=/var/run/supervisor.sock ; the socket\n[supervisord]\nlogfile=/var/log/supervisor/supervisord.log\npidfile=/var/run/supervisord.pid\n[supervisorctl]\nserverurl=unix:///var/run/supervisor.sock\n[include]\nfiles = /etc/supervisor/conf.d/*.conf\n',
  )
  assert.is(exitCode, 0)
  assert.equal(
    [document.layout?.confDir, document.layout?.confExt, document.layout?.serverurl, document.layout?.logDir],
    ['/etc/supervisor/conf.d', '.conf', 'unix:///var/run/supervisor.sock', '/var/log/supervisor'],
  )
})

test('RHEL (EPEL): a relative include is relative to the config file; serverurl from [unix_http_server] when AUTO', async () => {
  const { exitCode, document } = await layoutOf(
    '[unix_http_server]\nfile=/run/supervisor/supervisor.sock\n[supervisord]\nlogfile=/var/log/supervisor/supervisord.log\n[supervisorctl]\nserverurl=AUTO\n[include]\nfiles = supervisord.d/*.ini\n',
  )
  assert.is(exitCode, 0)
  assert.match(document.layout?.confDir ?? '', /\/zxs-layout-[^/]+\/supervisord\.d$/)
  assert.equal(
    [document.layout?.confExt, document.layout?.serverurl],
    ['.ini', 'unix:///run/supervisor/supervisor.sock'],
  )
})

test('%(here)s in the include is the config directory', async () => {
  const { document } = await layoutOf(
    '[unix_http_server]\nfile=/run/s.sock\n[include]\nfiles = %(here)s/conf.d/*.conf\n',
  )
  assert.match(document.layout?.confDir ?? '', /\/zxs-layout-[^/]+\/conf\.d$/)
})

test('the inventory override picks one of several include directories', async () => {
  const { document } = await layoutOf(
    '[unix_http_server]\nfile=/run/s.sock\n[include]\nfiles = /etc/a/*.conf /etc/b/*.ini\n',
    ['--include_dir', '/etc/b'],
  )
  assert.equal([document.layout?.confDir, document.layout?.confExt], ['/etc/b', '.ini'])
})

test('a layout that cannot be determined is exit 4 naming what was looked for', async () => {
  const noInclude = await layoutOf('[unix_http_server]\nfile=/run/s.sock\n')
  assert.is(noInclude.exitCode, 4)
  assert.match(noInclude.document.message ?? '', 'has no [include] files = <dir>/*.<ext> pattern')
  assert.match(noInclude.document.message ?? '', 'supervisor.include_dir')
  const noSocket = await layoutOf('[include]\nfiles = /etc/x/*.conf\n')
  assert.is(noSocket.exitCode, 4)
  assert.match(noSocket.document.message ?? '', 'neither [unix_http_server] file nor [inet_http_server] port')
})

test('a read-state answer without its parts is an error, never "all fine"', () => {
  const error = thrown(() => parseLiveState('web-1', { layout: {}, files: [] }), RemoteError)
  assert.is(error.server, 'web-1')
  assert.match(error.message, 'the server sent an incomplete state (output cut short?)')
})

test.run()
