// Loopback addresses for the hosts: only 127.0.0.0/8, never one in use, never one another sandbox reserved.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { InputError } from '../lib/errors.ts'
import { SandboxError } from './errors.ts'

/** One file per reserved `ADDR:PORT`, holding its Reservation (JSON). */
const REGISTRY = '/run/lock/zx-supervisor-sandbox.d'
const FIRST_AUTO = '127.0.0.2'
const LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
const WILDCARDS = new Set(['0.0.0.0', '*', '[::]'])

export function isLoopback(address: string): boolean {
  const octets = LOOPBACK.exec(address)?.slice(1).map(Number)
  return octets?.every((n) => n <= 255) ?? false
}

export function assertLoopback(address: string, field = '--address'): void {
  if (!isLoopback(address)) {
    throw new InputError([
      {
        field,
        value: address,
        allowed: 'an IPv4 address in 127.0.0.0/8',
        hint: 'sandbox hosts only ever listen on loopback addresses, e.g. 127.0.0.2',
      },
    ])
  }
}

/** Usable host addresses from `first` upwards: x.y.z.0 and x.y.z.255 are skipped. */
export function* addressesFrom(first: string): Generator<string> {
  const octets = first.split('.').map(Number)
  for (let n = toNumber(octets); n < toNumber([127, 255, 255, 255]); n++) {
    const last = n & 0xff
    if (last !== 0 && last !== 255) yield [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, last].join('.')
  }
}

function toNumber(octets: number[]): number {
  return octets.reduce((n, octet) => n * 256 + octet, 0)
}

/** The local `address:port` of every listening TCP socket (`ss -Hltn`). */
export async function tcpListeners(): Promise<string[]> {
  const { stdout } = await execa('ss', ['-Hltn'])
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[3] ?? '')
    .filter(Boolean)
    .map((local) => local.replace(/%[^:\]]+(?=:\d+$)/, ''))
}

export async function isListening(address: string, port: number): Promise<boolean> {
  return (await tcpListeners()).includes(`${address}:${port}`)
}

/** A wildcard listener on the port blocks every 127.0.0.N on that port (Linux refuses the specific bind). */
function wildcardOn(listeners: string[], port: number): string | undefined {
  return listeners.find((local) => WILDCARDS.has(local.slice(0, local.lastIndexOf(':'))) && local.endsWith(`:${port}`))
}

/** Who holds an address: a host dir, valid while its sandbox's marker file still holds `token`. */
export interface Reservation {
  hostDir: string
  marker: string
  token: string
}

/** `ADDR:PORT` → host dir, for every reservation still valid; stale ones (DIR removed or remade) are deleted. */
async function currentReservations(): Promise<Map<string, string>> {
  const entries = await fs.readdir(REGISTRY).catch(() => [])
  const current = new Map<string, string>()
  await Promise.all(
    entries.map(async (entry) => {
      const owner = await readReservation(path.join(REGISTRY, entry))
      const valid = owner && (await fs.readFile(owner.marker, 'utf8').catch(() => '')).trim() === owner.token
      if (owner && valid) current.set(entry, owner.hostDir)
      else await fs.rm(path.join(REGISTRY, entry), { force: true })
    }),
  )
  return current
}

async function readReservation(file: string): Promise<Reservation | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Reservation
  } catch {
    return undefined
  }
}

/**
 * Picks one free address per owner and records the reservations. Call it under withSandboxLock.
 * With `first`, the addresses are first, first+1, … and must all be free.
 */
export async function reserveAddresses(owners: Reservation[], port: number, first?: string): Promise<string[]> {
  if (first !== undefined) assertLoopback(first)
  const listeners = await tcpListeners()
  const wildcard = wildcardOn(listeners, port)
  if (wildcard) {
    throw new SandboxError(
      `${wildcard} listens on every address, which blocks 127.0.0.N:${port}; ` +
        "stop that server (often the machine's own sshd) and try again",
    )
  }
  const reserved = await currentReservations()
  const picked: string[] = []
  for (const address of addressesFrom(first ?? FIRST_AUTO)) {
    if (picked.length === owners.length) break
    const holder = listeners.includes(`${address}:${port}`) ? 'a running server' : reserved.get(`${address}:${port}`)
    if (holder === undefined) picked.push(address)
    else if (first !== undefined) throw new SandboxError(`${address}:${port} already in use (by ${holder})`)
  }
  if (picked.length < owners.length) throw new SandboxError(`no free address left in 127.0.0.0/8 on port ${port}`)
  await fs.mkdir(REGISTRY, { recursive: true, mode: 0o700 })
  await Promise.all(
    picked.map((address, i) => fs.writeFile(path.join(REGISTRY, `${address}:${port}`), JSON.stringify(owners[i]))),
  )
  return picked
}

/** Drops every reservation held by a host dir inside `hostsDir` (one sandbox's DIR/hosts). */
export async function releaseAddresses(hostsDir: string): Promise<void> {
  const entries = await fs.readdir(REGISTRY).catch(() => [])
  await Promise.all(
    entries.map(async (entry) => {
      const owner = await readReservation(path.join(REGISTRY, entry))
      if (owner && path.dirname(owner.hostDir) === hostsDir) await fs.rm(path.join(REGISTRY, entry), { force: true })
    }),
  )
}
