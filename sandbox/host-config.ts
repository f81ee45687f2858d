// The configuration files of one host, as text. Pure: the same input always gives the same files.

/** Debian's stock /etc/supervisor/supervisord.conf (supervisor 4.2.5-1), so hosts behave like a real server. */
export function supervisordConf(): string {
  return `; supervisor config file

[unix_http_server]
file=/var/run/supervisor.sock   ; (the path to the socket file)
chmod=0700                       ; sockef file mode (default 0700)

[supervisord]
logfile=/var/log/supervisor/supervisord.log ; (main log file;default $CWD/supervisord.log)
pidfile=/var/run/supervisord.pid ; (supervisord pidfile;default supervisord.pid)
childlogdir=/var/log/supervisor            ; ('AUTO' child log dir, default $TEMP)

; the below section must remain in the config file for RPC
; (supervisorctl/web interface) to work, additional interfaces may be
; added by defining them in separate rpcinterface: sections
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///var/run/supervisor.sock ; use a unix:// URL  for a unix socket

; The [include] section can just contain the "files" setting.  This
; setting can list multiple files (separated by whitespace or
; newlines).  It can also contain wildcards.  The filenames are
; interpreted as relative to this file.  Included files *cannot*
; include files themselves.

[include]
files = /etc/supervisor/conf.d/*.conf
`
}

/** RHEL/EPEL's /etc/supervisord.conf (supervisor 4.2), its settings: the include is relative to the config's directory. */
export function rhelSupervisordConf(): string {
  return `; Sample supervisor config file.

[unix_http_server]
file=/run/supervisor/supervisor.sock   ; (the path to the socket file)
;chmod=0700                 ; sockef file mode (default 0700)

[supervisord]
logfile=/var/log/supervisor/supervisord.log  ; (main log file;default $CWD/supervisord.log)
logfile_maxbytes=50MB       ; (max main logfile bytes b4 rotation;default 50MB)
logfile_backups=10          ; (num of main logfile rotation backups;default 10)
loglevel=info               ; (log level;default info; others: debug,warn,trace)
pidfile=/run/supervisord.pid ; (supervisord pidfile;default supervisord.pid)
nodaemon=false              ; (start in foreground if true;default false)
minfds=1024                 ; (min. avail startup file descriptors;default 1024)
minprocs=200                ; (min. avail process descriptors;default 200)

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///run/supervisor/supervisor.sock ; use a unix:// URL  for a unix socket

[include]
files = supervisord.d/*.ini
`
}

/** Alpine's /etc/supervisord.conf (supervisor 4.2), its settings: everything straight in /run and /var/log. */
export function alpineSupervisordConf(): string {
  return `; supervisor config file

[unix_http_server]
file=/run/supervisord.sock   ; the path to the socket file

[supervisord]
logfile=/var/log/supervisord.log ; main log file; default $CWD/supervisord.log
pidfile=/run/supervisord.pid ; supervisord pidfile; default supervisord.pid

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///run/supervisord.sock ; use a unix:// URL for a unix socket

[include]
files = /etc/supervisor.d/*.ini
`
}

/** Key logins only, on the host's own loopback address; forwarding (ProxyJump) only to this sandbox's own hosts. */
export function sshdConfig({
  name,
  address,
  port,
  neighbours = [],
}: {
  name: string
  address: string
  port: number
  neighbours?: { address: string }[]
}): string {
  const jumpTargets = neighbours.map((host) => `${host.address}:${port}`)
  return `# sshd of sandbox host ${name} (written by zx-supervisor's tasks/sandbox.mjs)
ListenAddress ${address}:${port}
HostKey /etc/ssh/ssh_host_ed25519_key
# Written once the listen socket is bound: the host's readiness signal.
PidFile /run/sshd.pid
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
# useradd leaves the password locked ("!"); without PAM sshd refuses such an account even for keys.
UsePAM yes
# The default 10:30:100 randomly drops parallel connections.
MaxStartups 200:30:400
MaxSessions 64
UseDNS no
PrintMotd no
X11Forwarding no
# A host may be a ProxyJump to the others (ssh -W): local forwards only, and only to the sandbox's loopback addresses.
AllowTcpForwarding ${jumpTargets.length ? 'local' : 'no'}
PermitOpen ${jumpTargets.length ? jumpTargets.join(' ') : 'none'}
AcceptEnv LANG LC_*
LoginGraceTime 30
LogLevel INFO
Subsystem sftp /usr/lib/openssh/sftp-server
`
}

export function sudoersRule(user: string): string {
  return `# The sandbox's login user may run anything as root without a password, like a typical deploy user.\n${user} ALL=(ALL:ALL) NOPASSWD: ALL\n`
}

/** The machine's /etc/hosts plus every host of this sandbox (sudo needs its own hostname resolvable). */
export function hostsFile(machineHosts: string, hosts: { name: string; address: string }[]): string {
  const base = machineHosts.endsWith('\n') || machineHosts === '' ? machineHosts : `${machineHosts}\n`
  return `${base}# zx-supervisor sandbox hosts\n${hosts.map((host) => `${host.address}\t${host.name}\n`).join('')}`
}
