#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""test-list.py: the list of tests in test/README.md, made from the tests.

Every test says what it checks in its header comment: a zdtm test as
"NAME: what it checks", a unit test in the first paragraph. This script
takes the first sentence of each header and prints the "Current tests"
section of test/README.md.

  scripts/test-list.py            print the section
  scripts/test-list.py --update   rewrite the section in test/README.md
  scripts/test-list.py --check    exit 1 (naming what differs) when the
                                  section is not what the tests say

A test without a header paragraph is an error: the list must cover every
test.
"""
import glob
import os
import re
import sys

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
README = os.path.join(TOP, 'test', 'README.md')
BEGIN = '<!-- test list: made by scripts/test-list.py, do not edit by hand -->'
END = '<!-- end of test list -->'


def comment_lines(path):
    """The lines of the file's first comment, with comment markers stripped."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if path.endswith('.c'):
        m = re.search(r'/\*(.*?)\*/', text, re.S)
        if not m:
            return []
        return [re.sub(r'^\s*\*\s?', '', l) for l in m.group(1).split('\n')]
    if path.endswith('.py') or text.startswith('#!/usr/bin/env python3'):
        m = re.search(r'"""(.*?)"""', text, re.S)
        if m:
            return m.group(1).split('\n')
    lines = []
    for l in text.split('\n'):
        if l.startswith('#!') or 'SPDX-License-Identifier' in l:
            continue
        if not l.startswith('#'):
            break
        lines.append(l[1:].strip())
    return lines


def first_sentence(path, name):
    """The header's first sentence (a list or a drawing after it is left out)."""
    para = []
    for l in comment_lines(path):
        l = l.strip()
        if not l or (para and re.match(r'[-\u251c\u2502\u2514]', l)):
            if para:
                break
            continue
        para.append(l)
    text = ' '.join(para)
    for prefix in (name + ':', name + '.sh:', name + '.py:', name + '.sh ', name + '.py '):
        if text.startswith(prefix):
            text = text[len(prefix):].lstrip()
            if prefix[-1] == ' ':	# "NAME.sh ARGS: what it does"
                text = text.split(': ', 1)[-1]
    m = re.search(r'[.:](\s|$)', text)
    if m:
        text = text[:m.start()]
    return text.strip()


def describe(path, name):
    text = first_sentence(path, os.path.splitext(name)[0])
    if not text:
        raise SystemExit('%s: no header comment saying what the test checks' % os.path.relpath(path, TOP))
    return text.replace('|', '\\|')


def tests(pattern, strip_ext=True):
    out = []
    for path in sorted(glob.glob(os.path.join(TOP, pattern))):
        base = os.path.basename(path)
        if base == 'run-unit.sh':
            continue
        name = os.path.splitext(base)[0] if strip_ext else base
        out.append((name, describe(path, name)))
    return out


def section():
    rows = ['## Current tests', '', BEGIN, '', '### zdtm (`test/zdtm/static/`)', '',
            '| test | checks |', '|---|---|']
    for name, text in tests('test/zdtm/static/*.c') + tests('test/zdtm/static/*.py'):
        rows.append('| `%s` | %s |' % (name, text))
    rows += ['', '### unit (`test/unit/`, with the scripts they run from `test/others/`)', '',
             '| test | checks |', '|---|---|']
    for name, text in (tests('test/unit/*.c') + tests('test/unit/*.sh', False) +
                       tests('test/others/*.py', False) + tests('test/others/interop', False)):
        rows.append('| `%s` | %s |' % (name, text))
    rows += ['', END]
    return '\n'.join(rows) + '\n'


def current_readme():
    with open(README, encoding='utf-8') as f:
        return f.read()


def replaced(readme, new):
    start = readme.find('## Current tests')
    if start < 0:
        return readme.rstrip('\n') + '\n\n' + new
    end = readme.find(END, start)
    if end < 0:
        nxt = readme.find('\n## ', start + 1)
        rest = '' if nxt < 0 else readme[nxt + 1:]
        return readme[:start] + new + ('\n' + rest if rest else '')
    rest = readme[end + len(END):].lstrip('\n')
    return readme[:start] + new + ('\n' + rest if rest else '')


def main():
    arg = sys.argv[1] if len(sys.argv) > 1 else ''
    new = section()
    if arg == '--update':
        readme = current_readme()
        with open(README, 'w', encoding='utf-8') as f:
            f.write(replaced(readme, new))
        return 0
    if arg == '--check':
        readme = current_readme()
        if replaced(readme, new) == readme:
            print('ok 1 - test/README.md lists every test as its header says')
            return 0
        old = set(readme.split('\n'))
        for l in new.split('\n'):
            if l and l not in old:
                print('# missing or changed: %s' % l[:150])
        print('not ok 1 - test/README.md is out of date: run scripts/test-list.py --update')
        return 1
    if arg:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(new)
    return 0


if __name__ == '__main__':
    sys.exit(main())
