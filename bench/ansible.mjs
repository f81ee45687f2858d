// Ansible's side of the bench: ansible-core from Debian, a config that uses the sandbox's ssh_config with
// ControlMaster, host_vars naming the files our renderer produced, and the playbooks in bench/ansible/.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { plainEnv, timed } from './measure.mjs'
import { PROJECT } from './ours.mjs'

const PLAYBOOKS = path.join(PROJECT, 'bench', 'ansible')
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' }

/**
 * @typedef {{ dir: string, inventory: string, muxConfig: string, env: Record<string, string | undefined> }} AnsibleSetup
 * @typedef {import('zx-supervisor').RemoteFile} RemoteFile
 */

/** `ansible-playbook [core 2.14.18]`, installing ansible-core with apt-get first when it is missing (needs root). @param {(line: string) => void} log */
export async function ensureAnsible(log) {
  const present = await ansibleVersion()
  if (present) return present
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the bench needs ansible-playbook: run it as root (it installs ansible-core), or: sudo apt-get install --no-install-recommends ansible-core',
    )
  }
  log(
    'installing ansible-core from Debian as root: apt-get update, apt-get install --no-install-recommends ansible-core',
  )
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=120', 'ansible-core'],
  ]) {
    const result = await execa('apt-get', args, { env: APT_ENV, reject: false, stdin: 'ignore' })
    if (result.failed)
      throw new Error(`apt-get ${args.join(' ')} failed (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`)
  }
  const installed = await ansibleVersion()
  if (!installed) throw new Error('ansible-core was installed but ansible-playbook does not run')
  return installed
}

async function ansibleVersion() {
  const result = await execa('ansible-playbook', ['--version'], { reject: false, stdin: 'ignore' })
  return result.exitCode === 0 ? (result.stdout.split('\n')[0] ?? '').trim() : undefined
}

/**
 * Writes DIR/ansible: ssh_config.mux (the sandbox's ssh_config + ControlMaster), ansible.cfg, hosts.ini, and per
 * host the rendered files and host_vars/<host>.json listing them.
 * @param {{ dir: string, sshConfig: string, hosts: string[], filesFor: (host: string) => RemoteFile[] }} input
 * @returns {Promise<AnsibleSetup>}
 */
export async function prepareAnsible({ dir, sshConfig, hosts, filesFor }) {
  const root = path.join(dir, 'ansible')
  const muxConfig = path.join(root, 'ssh_config.mux')
  await fs.mkdir(path.join(root, 'cp'), { recursive: true, mode: 0o700 })
  await fs.mkdir(path.join(root, 'host_vars'), { recursive: true })
  // ssh takes the first value it finds, so a trailing `Host *` adds the master settings to every sandbox host.
  await fs.writeFile(
    muxConfig,
    `${await fs.readFile(sshConfig, 'utf8')}
Host *
  ControlMaster auto
  ControlPath ${root}/cp/%C
  ControlPersist 60s
`,
  )
  await fs.writeFile(
    path.join(root, 'ansible.cfg'),
    `[defaults]
forks = 10
retry_files_enabled = False
local_tmp = ${root}/tmp
interpreter_python = /usr/bin/python3

[ssh_connection]
# The ControlMaster settings come from ssh_config.mux; pipelining is what a tuned Ansible uses (fewer round trips).
ssh_args =
pipelining = True
`,
  )
  const inventory = path.join(root, 'hosts.ini')
  await fs.writeFile(
    inventory,
    `[bench]\n${hosts.join('\n')}\n\n[bench:vars]
ansible_user=deployer
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_common_args='-F ${muxConfig}'
`,
  )
  for (const host of hosts) await writeHostFiles(root, host, filesFor(host))
  return { dir: root, inventory, muxConfig, env: plainEnv({ ANSIBLE_CONFIG: path.join(root, 'ansible.cfg') }) }
}

/** @param {string} root @param {string} host @param {RemoteFile[]} files */
async function writeHostFiles(root, host, files) {
  const local = path.join(root, 'files', host)
  await fs.mkdir(local, { recursive: true })
  const entries = await Promise.all(
    files.map(async (file, i) => {
      const src = path.join(local, `${i}-${path.basename(file.path)}`)
      await fs.writeFile(src, file.content)
      return { src, dest: file.path, owner: file.owner, group: file.group, mode: file.mode }
    }),
  )
  await fs.writeFile(
    path.join(root, 'host_vars', `${host}.json`),
    `${JSON.stringify({ bench_files: entries }, null, 2)}\n`,
  )
}

/** @param {AnsibleSetup} setup @param {string} playbook @param {string[]} hosts */
function playbook(setup, playbook, hosts) {
  return timed(
    'ansible-playbook',
    ['-b', '-i', setup.inventory, '--limit', hosts.join(','), path.join(PLAYBOOKS, playbook)],
    { env: setup.env },
  )
}

/** @param {AnsibleSetup} setup @param {string[]} hosts */
export const ansibleSync = (setup, hosts) => playbook(setup, 'sync.yml', hosts)

/** @param {AnsibleSetup} setup @param {string[]} hosts */
export const ansibleStatus = (setup, hosts) => playbook(setup, 'status.yml', hosts)

/** The command as a person would type it, for the report. */
export function ansibleCommand(/** @type {string} */ playbook) {
  return `ANSIBLE_CONFIG=DIR/ansible.cfg ansible-playbook -b -i DIR/hosts.ini --limit HOSTS bench/ansible/${playbook}`
}

/** Closes the ControlMasters Ansible left behind (ControlPersist 60s); best effort. @param {AnsibleSetup} setup @param {string[]} hosts */
export async function closeMasters(setup, hosts) {
  await Promise.all(
    hosts.map((host) =>
      execa('ssh', ['-F', setup.muxConfig, '-O', 'exit', host], { reject: false, stdin: 'ignore', timeout: 2000 }),
    ),
  )
}
