# read-programs.py programs [layout options] -- run on a server as root (python3 -I), for supervisor-import. Never changes
# anything. lib/import/read-programs.ts sends lib/supervisor/supervisor.py first, as the module zxs_supervisor, so the
# layout (the server's own config) and the XML-RPC calls are the ones every other task uses: one remote process.
# Prints one JSON document: the layout; per config file (supervisord's own and every file its [include] patterns
# find) its sections with their options as written, or why the file was not read; the processes supervisord runs.
# Files are parsed as supervisor parses them (RawConfigParser, strict=False, no interpolation, inline comments after
# whitespace); a value is never interpreted here: lib/import/map.ts judges every one through the rulebook.
# Exit codes: 0 ok (also when supervisord does not answer: the files are still read), 4 layout undeterminable.
import configparser
import glob
import os
import shlex
import sys

import zxs_supervisor as sv

MAX_FILE_BYTES = 1024 * 1024
MAX_SECTIONS = 1000
SECTION_KINDS = ('program', 'group', 'eventlistener', 'fcgi-program')


def main(argv):
    if argv[:1] != ['programs']:
        return sv.usage('programs')
    options = sv.parse_options(argv[1:])
    try:
        layout = sv.find_layout(options)
    except sv.LayoutError as error:
        sv.emit({'error': 'layout', 'message': str(error)})
        return 4
    document = {'layout': sv.public(layout), 'files': [read_file(path, roots) for path, roots in config_files(layout)]}
    try:
        processes = sv.call(sv.rpc(layout).supervisor.getAllProcessInfo)
        document['processes'] = [dict((k, p.get(k)) for k in ('group', 'name', 'statename', 'pid')) for p in processes]
        document['daemon'] = {'running': True}
    except sv.Unreachable as error:
        document['processes'] = []
        document['daemon'] = {'running': False, 'message': str(error)}
    except (sv.Fault, sv.ProtocolError) as error:
        document['processes'] = []
        document['daemon'] = {'running': False, 'message': str(error)}
    return sv.emit(document)


def config_files(layout):
    """supervisord's config, then every file of its [include] patterns (sorted, as supervisord reads them)."""
    config = layout['config']
    files = [(config, None)]
    parser = configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False, interpolation=None)
    try:
        with open(config, encoding='utf-8') as handle:
            parser.read_file(handle)
        patterns = parser.get('include', 'files').split() if parser.has_option('include', 'files') else []
    except (OSError, configparser.Error, UnicodeDecodeError):
        patterns = []
    here = os.path.dirname(os.path.abspath(config))
    seen = set([config])
    for pattern in patterns:
        pattern = pattern.replace('%(here)s', here)
        pattern = pattern if os.path.isabs(pattern) else os.path.join(here, pattern)
        for path in sorted(glob.glob(pattern)):
            if path not in seen:
                seen.add(path)
                files.append((path, os.path.dirname(pattern)))
    return files


def read_file(path, include_dir):
    entry = {'path': path}
    try:
        if include_dir is not None and os.path.islink(path):
            target = os.path.realpath(path)
            if not target.startswith(os.path.realpath(include_dir) + os.sep):
                entry['error'] = 'a symlink to %s, outside the include directory %s: not read' % (target, include_dir)
                return entry
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            entry['error'] = 'larger than 1 MB (%d bytes): not read' % size
            return entry
        parser = configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False, interpolation=None)
        parser.optionxform = str
        with open(path, encoding='utf-8') as handle:
            parser.read_file(handle)
    except UnicodeDecodeError:
        entry['error'] = 'not UTF-8 text: not read'
        return entry
    except configparser.Error as error:
        entry['error'] = 'supervisor cannot parse it: %s' % str(error).splitlines()[0][:200]
        return entry
    except OSError as error:
        entry['error'] = 'cannot be read: %s' % error.strerror
        return entry
    if len(parser.sections()) > MAX_SECTIONS:
        entry['error'] = 'more than %d sections (%d): not read' % (MAX_SECTIONS, len(parser.sections()))
        return entry
    entry['sections'] = [section_entry(parser, name) for name in parser.sections()]
    # Its first two lines: where zx-supervisor's ownership marker would be.
    with open(path, 'rb') as handle:
        entry['head'] = (handle.readline()[:400] + handle.readline()[:400]).decode('utf-8', 'replace')
    return entry


def section_entry(parser, name):
    kind, _, program = name.partition(':')
    section = {
        'section': name,
        'kind': kind if kind in SECTION_KINDS and program else 'other',
        'name': program,
        'options': dict((key.lower(), value) for key, value in parser.items(name)),
    }
    if section['kind'] == 'program':
        command = section['options'].get('command', '')
        try:
            section['argv'] = shlex.split(command)
        except ValueError as error:
            section['argvError'] = str(error)
        places = [section['options'].get('directory', '')]
        if section.get('argv'):
            places.append(os.path.dirname(section['argv'][0]))
        section['currentLinks'] = current_links(places)
        if 'environment' in section['options']:
            try:
                section['environmentPairs'] = environment_pairs(section['options']['environment'])
            except ValueError as error:
                section['environmentError'] = str(error)[:200]
    return section


def environment_pairs(raw):
    """environment= as supervisor reads it (options.py expand, then datatypes.dict_of_key_value_pairs), in order."""
    if '%(' in raw:
        raise ValueError('it holds a %(...)s expansion')
    if '\n' in raw:
        raise ValueError('it spans several lines')
    if '%' in raw.replace('%%', ''):
        raise ValueError('a bare %: supervisor refuses it')
    text = raw.replace('%%', '%')
    lexer = shlex.shlex(text)
    lexer.wordchars += '/.+-():'
    tokens = list(lexer)
    pairs, i = [], 0
    while i < len(tokens):
        key_eq_value = tokens[i:i + 3]
        if len(key_eq_value) != 3 or key_eq_value[1] != '=':
            raise ValueError('unexpected end of key/value pairs')
        pairs.append([key_eq_value[0], key_eq_value[2].strip('\'"')])
        i += 4
    return pairs


def current_links(places):
    """Each directory, at or above the given ones, that holds a `current` entry (a release layout's link)."""
    found = []
    for place in places:
        path = os.path.normpath(place) if place and os.path.isabs(place) and '\n' not in place else None
        while path and path != '/':
            if path not in found and os.path.lexists(os.path.join(path, 'current')):
                found.append(path)
            path = os.path.dirname(path)
    return found


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
