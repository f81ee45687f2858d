# supervisor.py COMMAND [options] -- run on a server as root (python3 -I), one process per phase.
# Finds the server's own supervisord config (its running daemon's -c, else supervisord's search order), reads the
# layout from it (include directory and extension, socket or serverurl, log directory, service name), and talks to
# supervisord over XML-RPC on that socket instead of starting supervisorctl (a Python start-up per call).
# Commands:
#   read    the state sync and status compare against, as one JSON document: layout, every file a discovery
#           pattern finds whose first two lines hold the marker token, every wanted path that exists, missing
#           scripts, processes (with the release each runs) and what reloadConfig would change.
#   reread  supervisord re-parses its config (reloadConfig, like `supervisorctl reread`): exit 0 ok, 2 rejected.
#   apply   `supervisorctl update` for the named groups, one group lock each, printing progress lines while a
#           group is stopping; the server lock is held only around each reloadConfig.
#   processes  the processes of the named groups (all without --group), and which groups are not loaded.
#   control    start|stop|restart the named groups (--group) or processes (--process group:name), waiting as
#              supervisorctl does (a start returns once RUNNING past startsecs, or failed), then their processes.
#   layout  the layout only.
#   audit-append  appends one line to the audit trail (--entry JSON: the client's part, lib/audit.ts; --result ok|failed;
#              --reason TEXT): the time, result and reason are added here, and the line goes in with one write(2)
#              under flock. Needs no supervisord. Exit 0 written, 1 not (an audit failure never fails a change).
# Paths and patterns may hold {confDir}, {confExt} and {logDir}: they are replaced with the layout's values.
# Exit codes: 0 ok, 2 rejected config (reread), 3 supervisord unreachable, 4 layout undeterminable, 64 usage.
# Every run starts a Python: only light modules are imported (xmlrpc.client would bring http.client, email and ssl,
# more than half of the start-up), so the XML-RPC calls below are made by hand over a plain socket.
import binascii
import configparser
import fcntl
import glob
import json
import os
import re
import signal
import socket
import stat
import sys
import time
from xml.parsers import expat

try:
    # The built-in sha256: hashlib would first load and initialise OpenSSL.
    from _sha256 import sha256
except ImportError:
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256

SEARCH_PATHS = ['/etc/supervisord.conf', '/etc/supervisor/supervisord.conf']


class Unreachable(Exception):
    pass


class LayoutError(Exception):
    pass


def main(argv):
    # A dropped connection must not stop an update half-way; output that cannot be written is dropped.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    if not argv:
        return usage('a command')
    command, options = argv[0], parse_options(argv[1:])
    if command == 'audit-append':
        return 0 if audit_append(options.get('entry', ''), options.get('result', 'ok'), options.get('reason', '')) else 1
    try:
        layout = find_layout(options)
        if command == 'layout':
            return emit({'layout': public(layout)})
        server = rpc(layout)
        if command == 'read':
            return read_state(layout, server, options)
        if command == 'reread':
            return reread(server)
        if command == 'apply':
            return apply_groups(layout, server, options)
        if command == 'processes':
            return emit(processes_of(server, options['group']))
        if command == 'control':
            return emit(control(server, options))
        return usage('read, reread, apply, processes, control, layout or audit-append, not %s' % command)
    except LayoutError as error:
        emit({'error': 'layout', 'message': str(error)})
        return 4
    except Unreachable as error:
        emit({'error': 'unreachable', 'message': str(error)})
        return 3


def usage(what):
    sys.stderr.write('supervisor.py: expected %s\n' % what)
    return 64


def parse_options(args):
    options = {'pattern': [], 'path': [], 'script': [], 'group': [], 'current': [], 'process': []}
    i = 0
    while i < len(args):
        key = args[i].lstrip('-')
        if key in ('status', 'reread'):
            options[key] = True
            i += 1
            continue
        value = args[i + 1] if i + 1 < len(args) else ''
        if key in options and isinstance(options[key], list):
            options[key].append(value)
        else:
            options[key] = value
        i += 2
    return options


def emit(document):
    try:
        sys.stdout.write(json.dumps(document) + '\n')
        sys.stdout.flush()
    except OSError:
        pass
    return 0


def say(line):
    try:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()
    except OSError:
        pass


# --- the layout -------------------------------------------------------------------------------------------------

def running_config():
    """The -c/--configuration of a running supervisord, if one runs in this machine's process table."""
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as handle:
                args = handle.read().split(b'\0')
        except OSError:
            continue
        words = [a.decode('utf-8', 'replace') for a in args if a]
        if not any(os.path.basename(w) == 'supervisord' for w in words[:2]):
            continue
        for i, word in enumerate(words):
            if word in ('-c', '--configuration') and i + 1 < len(words):
                return absolute(words[i + 1], '/proc/%s/cwd' % pid)
            if word.startswith('--configuration='):
                return absolute(word.split('=', 1)[1], '/proc/%s/cwd' % pid)
    return None


def absolute(path, cwd_link):
    if os.path.isabs(path):
        return path
    try:
        return os.path.join(os.readlink(cwd_link), path)
    except OSError:
        return path


def search_config():
    """supervisord's own search order (4.2.5): next to its executable, then /etc/supervisord.conf, /etc/supervisor/."""
    import shutil
    paths = []
    executable = shutil.which('supervisord')
    if executable:
        base = os.path.dirname(os.path.dirname(os.path.realpath(executable)))
        paths += [os.path.join(base, 'etc', 'supervisord.conf'), os.path.join(base, 'supervisord.conf')]
    for path in paths + SEARCH_PATHS:
        if os.path.isfile(path):
            return path
    return None


def read_config(path):
    parser = configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)
    try:
        with open(path, encoding='utf-8') as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error) as error:
        raise LayoutError('cannot read supervisord config %s: %s' % (path, str(error).splitlines()[0]))
    here = os.path.dirname(os.path.abspath(path))
    def get(section, key):
        if not parser.has_option(section, key):
            return None
        return parser.get(section, key).replace('%(here)s', here).strip()
    return get, here


def find_layout(options):
    config = options.get('config') or running_config() or search_config()
    if not config:
        raise LayoutError('no supervisord config found (looked at the running supervisord\'s -c, %s); set servers[].supervisor.config in the inventory' % ', '.join(SEARCH_PATHS))
    get, here = read_config(config)
    include_dir, include_ext = options.get('include_dir'), None
    files = (get('include', 'files') or '').split()
    for pattern in files:
        pattern = pattern if os.path.isabs(pattern) else os.path.join(here, pattern)
        directory, name = os.path.split(pattern)
        if name.startswith('*') and '*' not in name[1:] and not any(c in directory for c in '*?['):
            if include_dir is None or os.path.normpath(directory) == os.path.normpath(include_dir):
                include_dir, include_ext = os.path.normpath(directory), name[1:]
                break
    if include_dir is None:
        raise LayoutError('supervisord config %s has no [include] files = <dir>/*.<ext> pattern (found: %s); set servers[].supervisor.include_dir in the inventory' % (config, ' '.join(files) or 'none'))
    daemon_log = get('supervisord', 'logfile') or ''
    if not os.path.isabs(daemon_log):
        daemon_log = '/var/log/supervisor/supervisord.log'
    return {
        'config': config,
        'confDir': include_dir,
        'confExt': include_ext or '.conf',
        'serverurl': options.get('serverurl') or server_url(get),
        'logDir': os.path.dirname(daemon_log),
        'daemonLog': daemon_log,
        'pidFile': get('supervisord', 'pidfile') or '/var/run/supervisord.pid',
        'service': service_name(),
    }


def server_url(get):
    url = get('supervisorctl', 'serverurl')
    if url and url.upper() != 'AUTO':
        return url
    sock = get('unix_http_server', 'file')
    if sock:
        return 'unix://' + sock
    port = get('inet_http_server', 'port')
    if port:
        return 'http://' + (port if ':' in port else 'localhost:' + port)
    raise LayoutError('the supervisord config has neither [unix_http_server] file nor [inet_http_server] port: supervisord cannot be asked anything')


def service_name():
    for name in ('supervisor', 'supervisord'):
        for directory in ('/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'):
            if os.path.exists('%s/%s.service' % (directory, name)):
                return name
        if os.path.exists('/etc/init.d/%s' % name):
            return name
    return 'supervisor'


def public(layout):
    return dict(layout)


def expand(text, layout):
    return text.replace('{confDir}', layout['confDir']).replace('{confExt}', layout['confExt']).replace('{logDir}', layout['logDir'])


# --- XML-RPC to supervisord --------------------------------------------------------------------------------------

class Fault(Exception):
    """supervisord's answer to a call it refused (xmlrpc.client.Fault's two fields)."""

    def __init__(self, faultCode, faultString):
        super().__init__(faultString)
        self.faultCode = faultCode
        self.faultString = faultString


class ProtocolError(Exception):
    """An HTTP answer other than 200 (xmlrpc.client.ProtocolError: not a daemon that is down, so never Unreachable)."""


class ServerProxy:
    """server.supervisor.getAllProcessInfo() and the like, as xmlrpc.client.ServerProxy offers them."""

    def __init__(self, url, name=''):
        self._url, self._name = url, name

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        return ServerProxy(self._url, '%s.%s' % (self._name, name) if self._name else name)

    def __call__(self, *params):
        return xmlrpc_call(self._url, self._name, params)


def rpc(layout):
    return ServerProxy(layout['serverurl'])


def call(method, *args):
    try:
        return method(*args)
    except OSError as error:
        raise Unreachable('supervisord does not answer on its socket (%s)' % error)


def xml_text(text):
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def marshal(value):
    if isinstance(value, bool):
        return '<value><boolean>%d</boolean></value>' % value
    if isinstance(value, int):
        return '<value><int>%d</int></value>' % value
    if isinstance(value, str):
        return '<value><string>%s</string></value>' % xml_text(value)
    raise TypeError('cannot send %r over XML-RPC' % (value,))


def xmlrpc_call(url, method, params):
    """One XML-RPC call: a POST over the unix socket (unix:///path) or TCP (http://host:port), the answer parsed."""
    body = ("<?xml version='1.0'?>\n<methodCall>\n<methodName>%s</methodName>\n<params>\n%s</params>\n</methodCall>\n" % (
        xml_text(method), ''.join('<param>\n%s\n</param>\n' % marshal(p) for p in params))).encode('utf-8')
    headers = ['POST /RPC2 HTTP/1.1', 'Host: localhost', 'Content-Type: text/xml', 'Content-Length: %d' % len(body),
               'Connection: close']
    if url.startswith('unix://'):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        try:
            sock.connect(url[len('unix://'):])
        except OSError:
            sock.close()
            raise
    else:
        netloc = url.split('://', 1)[-1].split('/', 1)[0]
        if '@' in netloc:
            credentials, netloc = netloc.rsplit('@', 1)
            headers.append('Authorization: Basic %s' % binascii.b2a_base64(credentials.encode('utf-8'), newline=False).decode('ascii'))
        host, _, port = netloc.rpartition(':') if ':' in netloc.rsplit(']', 1)[-1] else (netloc, '', '80')
        headers[1] = 'Host: %s' % netloc
        sock = socket.create_connection((host.strip('[]'), int(port)), timeout=30)
    try:
        sock.sendall(('\r\n'.join(headers) + '\r\n\r\n').encode('ascii') + body)
        status, answer = read_http_answer(sock)
    finally:
        sock.close()
    if status != 200:
        raise ProtocolError('%s/RPC2: HTTP %d' % (url, status))
    return parse_answer(answer)


def read_http_answer(sock):
    """(status, body) of an HTTP/1.x answer: by Content-Length, chunked, or to the end of the connection."""
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError('the connection closed before an HTTP answer')
        data += chunk
    head, body = data.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise OSError('not an HTTP answer: %r' % lines[0][:80])
    fields = dict((k.strip().lower(), v.strip()) for k, _, v in (line.partition(':') for line in lines[1:]))
    length = fields.get('content-length')
    chunked = 'chunked' in fields.get('transfer-encoding', '').lower()
    while True:
        if length is not None and not chunked and len(body) >= int(length):
            return status, body[:int(length)]
        if chunked and (body.endswith(b'0\r\n\r\n') or body == b'0\r\n\r\n'):
            return status, unchunk(body)
        chunk = sock.recv(65536)
        if not chunk:
            return status, unchunk(body) if chunked else body
        body += chunk


def unchunk(data):
    out, rest = b'', data
    while rest:
        size_line, _, rest = rest.partition(b'\r\n')
        size = int(size_line.split(b';')[0] or b'0', 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2:]
    return out


def parse_answer(document):
    """The value of a methodResponse, or Fault raised: xmlrpc.client's Unmarshaller for the types supervisord sends."""
    stack, marks = [], []
    state = {'data': [], 'value': False, 'fault': False}

    def start(tag, attrs):
        if tag in ('array', 'struct'):
            marks.append(len(stack))
        state['data'] = []
        state['value'] = tag == 'value'

    def end(tag):
        data = ''.join(state['data'])
        if tag == 'value':
            if state['value']:  # a <value> without a type is a string
                stack.append(data)
        elif tag in ('string', 'name', 'dateTime.iso8601'):
            stack.append(data)
            state['value'] = False
        elif tag in ('int', 'i4', 'i8'):
            stack.append(int(data.strip()))
            state['value'] = False
        elif tag == 'boolean':
            stack.append(data.strip() == '1')
            state['value'] = False
        elif tag == 'double':
            stack.append(float(data.strip()))
            state['value'] = False
        elif tag == 'nil':
            stack.append(None)
            state['value'] = False
        elif tag == 'base64':
            stack.append(binascii.a2b_base64(data.encode('ascii')))
            state['value'] = False
        elif tag == 'array':
            mark = marks.pop()
            stack[mark:] = [stack[mark:]]
            state['value'] = False
        elif tag == 'struct':
            mark = marks.pop()
            items = stack[mark:]
            stack[mark:] = [dict((items[i], items[i + 1]) for i in range(0, len(items), 2))]
            state['value'] = False
        elif tag == 'fault':
            state['fault'] = True

    parser = expat.ParserCreate('utf-8')
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = lambda text: state['data'].append(text)
    parser.Parse(document, True)
    if state['fault']:
        fault = stack[0] if stack and isinstance(stack[0], dict) else {}
        raise Fault(fault.get('faultCode'), fault.get('faultString', ''))
    if not stack:
        raise ProtocolError('an XML-RPC answer without a value')
    return stack[0]


def reload_config(server):
    """supervisord re-parses its config: (ok, added, changed, removed, message)."""
    try:
        added, changed, removed = call(server.supervisor.reloadConfig)[0]
        return True, added, changed, removed, ''
    except Fault as fault:
        return False, [], [], [], fault.faultString


# --- read -------------------------------------------------------------------------------------------------------

def file_entry(path, found):
    try:
        info = os.stat(path)
        with open(path, 'rb') as handle:
            content = handle.read()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return {
        'found': found, 'path': path, 'mode': '%04o' % stat.S_IMODE(info.st_mode),
        'owner': user_name(info.st_uid), 'group': group_name(info.st_gid),
        'sha256': sha256(content).hexdigest(), 'content': binascii.b2a_base64(content, newline=False).decode('ascii'),
    }


def user_name(uid):
    import pwd
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid):
    import grp
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def marked(path, token):
    try:
        with open(path, 'rb') as handle:
            head = handle.readline() + handle.readline()
    except OSError:
        return False
    return token.encode() in head


def process_release(pid):
    """The directory a process runs in and the release its environment names: what it really runs."""
    result = {}
    try:
        result['cwd'] = os.readlink('/proc/%d/cwd' % pid)
    except OSError:
        pass
    try:
        with open('/proc/%d/environ' % pid, 'rb') as handle:
            for item in handle.read().split(b'\0'):
                if item.startswith(b'DEPLOYER_RELEASE_PATH='):
                    result['releasePath'] = item.split(b'=', 1)[1].decode('utf-8', 'replace')
    except OSError:
        pass
    return result


# States in which a process gave up or exited: status shows why, with the last line its program logged.
GAVE_UP = ('FATAL', 'BACKOFF', 'EXITED')


def last_log_line(path, size=4096, width=200):
    """The last non-empty line of a program's log (its end only is read), printable and cut to width; '' if none."""
    if not path or not os.path.isfile(path):
        return ''
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            tail = handle.read().decode('utf-8', 'replace')
    except OSError:
        return ''
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return ''
    # A worker's colours or cursor codes must not reach the operator's terminal.
    text = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]', '', lines[-1])
    text = ''.join(c if c.isprintable() else ' ' for c in text).strip()
    return text if len(text) <= width else text[:width - 3] + '...'


def link_target(path):
    """Where a site's `current` points (the release it runs), or None."""
    try:
        return os.path.realpath(path) if os.path.exists(path) else None
    except OSError:
        return None


def read_state(layout, server, options):
    token = options.get('token', '')
    files, seen = [], set()
    for index, pattern in enumerate(options['pattern']):
        for path in sorted(glob.glob(expand(pattern, layout))):
            if path not in seen and marked(path, token):
                entry = file_entry(path, index)
                if entry:
                    seen.add(path)
                    files.append(entry)
    for wanted in options['path']:
        path = expand(wanted, layout)
        if path not in seen:
            entry = file_entry(path, None)
            if entry:
                seen.add(path)
                files.append(entry)
    document = {
        'layout': public(layout),
        'files': files,
        'missing': [s for s in (expand(s, layout) for s in options['script']) if not os.path.isfile(s)],
        'currents': dict((path, link_target(path)) for path in options['current']),
    }
    if options.get('status'):
        document['lastChange'] = last_audit_line()
    try:
        if options.get('status'):
            processes = call(server.supervisor.getAllProcessInfo)
            for process in processes:
                if process.get('pid'):
                    process.update(process_release(process['pid']))
                if process.get('statename') in GAVE_UP:
                    process['lastLog'] = last_log_line(process.get('stdout_logfile') or process.get('stderr_logfile'))
            document['processes'] = processes
        if options.get('reread'):
            ok, added, changed, removed, message = reload_config(server)
            document['reread'] = {'ok': ok, 'added': added, 'changed': changed, 'removed': removed, 'message': message}
        document['daemon'] = {'running': True}
    except Unreachable as error:
        document['daemon'] = {'running': False, 'message': str(error)}
    return emit(document)


# --- reread and apply -------------------------------------------------------------------------------------------

def reread(server):
    ok, added, changed, removed, message = reload_config(server)
    emit({'ok': ok, 'added': added, 'changed': changed, 'removed': removed, 'message': message})
    return 0 if ok else 2


def locked(path, wait_seconds):
    handle = open(path, 'a')
    deadline = time.time() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.time() >= deadline:
                handle.close()
                return None
            time.sleep(0.1)


def apply_groups(layout, server, options):
    """`supervisorctl update GROUP...`, one group at a time under its own lock; says what it waits for."""
    lock_wait = int(options.get('lock_wait') or '60')
    failed = False
    for group in options['group']:
        group_lock = locked('%s.%s' % (options['lock'], group), lock_wait)
        if group_lock is None:
            say('BUSY %s %d' % (group, lock_wait))
            failed = True
            continue
        try:
            server_lock = locked(options['lock'], lock_wait)
            if server_lock is None:
                say('BUSY %s %d' % (group, lock_wait))
                failed = True
                continue
            try:
                ok, added, changed, removed, message = reload_config(server)
            finally:
                server_lock.close()
            if not ok:
                say('REJECTED %s %s' % (group, message.replace('\n', ' ')))
                failed = True
                continue
            if group in changed or group in removed:
                stop_group(server, group)
                call(server.supervisor.removeProcessGroup, group)
            if group in added or group in changed:
                call(server.supervisor.addProcessGroup, group)
            what = 'added' if group in added else 'updated' if group in changed else 'removed' if group in removed else 'unchanged'
            say('DONE %s %s' % (group, what))
        except Fault as fault:
            say('FAILED %s %s' % (group, fault.faultString.replace('\n', ' ')))
            failed = True
        finally:
            group_lock.close()
    return 1 if failed else 0


def stop_group(server, group):
    """Stops every process of the group without blocking the call, reporting each one still stopping."""
    try:
        call(server.supervisor.stopProcessGroup, group, False)
    except Fault as fault:
        if 'BAD_NAME' not in fault.faultString:
            raise
        return
    started = time.time()
    reported = 0.0
    while True:
        infos = [p for p in call(server.supervisor.getAllProcessInfo) if p['group'] == group]
        stopping = [p for p in infos if p['statename'] in ('STOPPING', 'RUNNING', 'STARTING', 'BACKOFF')]
        if not stopping:
            return
        if time.time() - reported >= 2:
            reported = time.time()
            for process in stopping:
                say('STOPPING %s:%s %d %s' % (group, process['name'], int(started), stopwait_of(server, group, process['name'])))
        time.sleep(0.2)


# --- processes and control ---------------------------------------------------------------------------------------

def processes_of(server, groups):
    infos = call(server.supervisor.getAllProcessInfo)
    loaded = set(p['group'] for p in infos)
    return {
        'unknown': [g for g in groups if g not in loaded],
        'processes': [p for p in infos if not groups or p['group'] in groups],
    }


# supervisor's result codes (xmlrpc Faults), in supervisorctl's words.
RESULTS = {60: 'ERROR (already started)', 70: 'ERROR (not running)', 50: 'ERROR (spawn error)', 90: 'ERROR (abnormal termination)', 10: 'ERROR (no such process)'}


def control(server, options):
    action, groups, names = options.get('action', ''), options['group'], options['process']
    if action not in ('start', 'stop', 'restart'):
        raise SystemExit(usage('--action start|stop|restart'))
    state = processes_of(server, groups + sorted(set(n.split(':')[0] for n in names)))
    if state['unknown']:
        return {'unknown': state['unknown'], 'lines': [], 'processes': []}
    lines = []
    targets = [(g, True) for g in groups] + [(n, False) for n in names]
    for target, is_group in targets:
        if action in ('stop', 'restart'):
            lines += act(server, 'stop', target, is_group)
        if action in ('start', 'restart'):
            lines += act(server, 'start', target, is_group)
    after = processes_of(server, groups + sorted(set(n.split(':')[0] for n in names)))
    if options.get('audit'):
        audit_control(options['audit'], lines)
    return {'unknown': [], 'lines': lines, 'processes': after['processes']}


# An answer that is not a change: the process already was in the state asked for.
NO_CHANGE = ('ERROR (already started)', 'ERROR (not running)')


def audit_control(entry, lines):
    """One audit line for a control that changed something or failed (one that found everything as asked writes none)."""
    changed = [l for l in lines if l.endswith(': started') or l.endswith(': stopped')]
    failed = [l for l in lines if 'ERROR' in l and not l.endswith(NO_CHANGE)]
    if not changed and not failed:
        return
    reason = '%d of %d not done: %s' % (len(failed), len(lines), failed[0]) if failed else ''
    audit_append(entry, 'failed' if failed else 'ok', reason)


def act(server, verb, target, is_group):
    """One supervisorctl-like step: `group:name: started|stopped` or its ERROR, per process."""
    done = 'started' if verb == 'start' else 'stopped'
    try:
        if is_group:
            method = server.supervisor.startProcessGroup if verb == 'start' else server.supervisor.stopProcessGroup
            results = call(method, target, True)
            return ['%s:%s: %s' % (r['group'], r['name'], done if r['status'] == 80 else RESULTS.get(r['status'], r['description'])) for r in results]
        method = server.supervisor.startProcess if verb == 'start' else server.supervisor.stopProcess
        call(method, target, True)
        return ['%s: %s' % (target, done)]
    except Fault as fault:
        return ['%s: %s' % (target, RESULTS.get(fault.faultCode, 'ERROR (%s)' % fault.faultString))]


def stopwait_of(server, group, name):
    try:
        for info in call(server.supervisor.getAllConfigInfo):
            if info.get('group') == group and info.get('name') == name:
                return str(info.get('stopwaitsecs', '?'))
    except Fault:
        pass
    return '?'


# --- the audit trail ---------------------------------------------------------------------------------------------

AUDIT_DIR = '/var/log/zx-supervisor'
AUDIT_LOG = AUDIT_DIR + '/audit.log'
# One write(2) of less than this is one line, whole, whatever else appends at the same time.
AUDIT_LINE_MAX = 4000
AUDIT_REASON_MAX = 200


def audit_line(entry, result, reason, now=None):
    """The line: time, the client's fields, result and reason; lists dropped (and marked) if it would reach 4000 bytes."""
    try:
        document = json.loads(entry)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {'entry': 'unreadable'}
    stamp = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now if now is not None else time.time()))
    line = {'time': stamp}
    line.update(document)
    line['result'] = 'failed' if result == 'failed' else 'ok'
    reason = ''.join(c if c.isprintable() else ' ' for c in reason).strip()
    if reason:
        line['reason'] = reason if len(reason) <= AUDIT_REASON_MAX else reason[:AUDIT_REASON_MAX - 3] + '...'
    text = json.dumps(line)
    if len(text.encode('utf-8')) >= AUDIT_LINE_MAX:
        line['change'], line['flags'], line['truncated'] = {}, {}, True
        text = json.dumps(line)
    return text + '\n'


def audit_append(entry, result, reason):
    """Appends the line to the audit log (directory root 0750, file root 0640), one write under flock."""
    data = audit_line(entry, result, reason).encode('utf-8')
    try:
        if not os.path.isdir(AUDIT_DIR):
            os.makedirs(AUDIT_DIR, 0o750, exist_ok=True)
            os.chmod(AUDIT_DIR, 0o750)
        fd = os.open(AUDIT_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640)
    except OSError as error:
        sys.stderr.write('supervisor.py: cannot open %s: %s\n' % (AUDIT_LOG, error))
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # The caller's umask (077 in an activation) must not decide the mode of a file a log reader's group may read.
        if os.fstat(fd).st_size == 0:
            os.fchmod(fd, 0o640)
        return os.write(fd, data) == len(data)
    except OSError as error:
        sys.stderr.write('supervisor.py: cannot write %s: %s\n' % (AUDIT_LOG, error))
        return False
    finally:
        os.close(fd)


def last_audit_line(size=8192):
    """The last complete line of the audit log, parsed; None when there is none or it is not JSON."""
    try:
        with open(AUDIT_LOG, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            tail = handle.read().decode('utf-8', 'replace')
    except OSError:
        return None
    for text in reversed(tail.splitlines()):
        if not text.strip():
            continue
        try:
            document = json.loads(text)
        except ValueError:
            return None
        return document if isinstance(document, dict) else None
    return None


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
