// A program written by hand before zx-supervisor, as supervisor-import finds it: the conf the adopt tests replace.

export const HANDMADE = '/etc/supervisor/conf.d/handmade.conf'
/** Where an adopting sync keeps each original (the path the README documents, written out, not imported). */
export const ADOPTED = '/var/lib/zx-supervisor/adopted'

/** The hand-written `mailer` of a site rooted at ROOT, started from its current release. */
export function handmadeMailer(root: string): string {
  return `; the mailer, written by hand
[program:mailer]
command=/bin/sleep 100000
directory=${root}/current
user=deployer
stopwaitsecs=2
`
}
