#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn an asciidoc man page source (Documentation/criu.txt) into roff (man 7).

Only the asciidoc we write is understood, so that building the man page
needs python3 alone (asciidoctor pulls in Ruby, about 30 MB):

  NAME(8) over a line of '='       the page title and section
  Title over a line of '-' / '~'   a section / a subsection
  *bold*, 'italic'                 constrained quotes (not inside a word)
  term::  + indented lines         a labeled list item
  a line of 4+ '-' ... same        a listing block, kept as it is
  indented lines after a blank     a literal paragraph
  other lines                      paragraphs, blank-line separated

Anything else is passed through as text. Usage:
  asciidoc2man.py [--version TEXT] FILE.txt > FILE.8
"""
import re
import sys

# *bold* or 'italic': not glued to a word on either side, no blank just inside
INLINE = re.compile(r"(?<!\w)(\*(?=\S)([^*\n]+?)(?<=\S)\*|'(?=\S)([^'\n]+?)(?<=\S)')(?!\w)")


def escape(text):
    """Plain text for roff: backslashes and hyphens escaped."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def inline(text):
    """One line of asciidoc text to roff, with bold and italic."""
    out, pos = [], 0
    for m in INLINE.finditer(text):
        out.append(escape(text[pos:m.start()]))
        if m.group(2) is not None:
            out.append("\\fB" + escape(m.group(2)) + "\\fR")
        else:
            out.append("\\fI" + escape(m.group(3)) + "\\fR")
        pos = m.end()
    out.append(escape(text[pos:]))
    return guard("".join(out))


def guard(line):
    """A text line must not start like a roff request."""
    return "\\&" + line if line.startswith((".", "'")) else line


def is_rule(line, char, minimum=2):
    return len(line) >= minimum and line == char * len(line)


def is_title(lines, i, char):
    """lines[i] is a title underlined by char (length within 2 of the title's)."""
    if i + 1 >= len(lines) or not lines[i].strip() or lines[i].startswith(" "):
        return False
    under = lines[i + 1]
    return is_rule(under, char) and abs(len(under) - len(lines[i])) <= 2


class Converter:
    def __init__(self, lines, version):
        self.lines = lines
        self.version = version
        self.out = []
        self.i = 0

    def emit(self, line):
        self.out.append(line)

    def header(self):
        m = re.fullmatch(r"(\S+)\((\d\w*)\)", self.lines[0].strip()) if self.lines else None
        if not m or not is_title(self.lines, 0, "="):
            sys.exit("asciidoc2man: the first line must be NAME(SECTION) over a line of '='")
        name, section = m.group(1), m.group(2)
        source = "criu (pidfd edition)" + (" " + self.version if self.version else "")
        self.emit('.TH "%s" "%s" "" "%s" "criu manual"' % (name, section, source))
        self.emit(".nh")
        self.emit(".ad l")
        self.i = 2

    def listing(self):
        """From a delimiter line to the same line: kept verbatim."""
        delim = self.lines[self.i]
        self.i += 1
        self.emit(".PP")
        self.emit(".RS 4")
        self.emit(".nf")
        while self.i < len(self.lines) and self.lines[self.i] != delim:
            self.emit(guard(escape(self.lines[self.i])))
            self.i += 1
        self.i += 1
        self.emit(".fi")
        self.emit(".RE")

    def literal(self):
        """Indented lines after a blank one: a literal paragraph."""
        block = []
        while self.i < len(self.lines) and self.lines[self.i].startswith((" ", "\t")):
            block.append(self.lines[self.i])
            self.i += 1
        strip = min(len(l) - len(l.lstrip()) for l in block)
        self.emit(".PP")
        self.emit(".RS 4")
        self.emit(".nf")
        for l in block:
            self.emit(guard(escape(l[strip:])))
        self.emit(".fi")
        self.emit(".RE")

    def item(self):
        """term:: and its indented description."""
        self.emit(".TP")
        self.emit(inline(self.lines[self.i].rstrip()[:-2].rstrip()))
        self.i += 1
        while self.i < len(self.lines) and self.lines[self.i].strip() and \
                self.lines[self.i].startswith((" ", "\t")):
            self.emit(inline(self.lines[self.i].strip()))
            self.i += 1

    def paragraph(self):
        self.emit(".PP")
        while self.i < len(self.lines) and self.lines[self.i].strip() and \
                not is_title(self.lines, self.i, "-") and not is_title(self.lines, self.i, "~") and \
                not is_rule(self.lines[self.i], "-", 4) and not self.lines[self.i].rstrip().endswith("::"):
            self.emit(inline(self.lines[self.i].strip()))
            self.i += 1

    def body(self):
        lines = self.lines
        while self.i < len(lines):
            line = lines[self.i]
            if not line.strip():
                self.i += 1
            elif is_title(lines, self.i, "-"):
                self.emit('.SH "%s"' % escape(line.strip().upper()))
                self.i += 2
            elif is_title(lines, self.i, "~"):
                self.emit('.SS "%s"' % escape(line.strip()))
                self.i += 2
            elif is_rule(line, "-", 4):
                self.listing()
            elif line.startswith((" ", "\t")):
                self.literal()
            elif line.rstrip().endswith("::"):
                self.item()
            else:
                self.paragraph()

    def run(self):
        self.header()
        self.body()
        return "\n".join(self.out) + "\n"


def main(argv):
    version = ""
    if len(argv) > 2 and argv[1] == "--version":
        version = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    with open(argv[1], encoding="utf-8") as f:
        lines = f.read().expandtabs(8).splitlines()
    sys.stdout.write(Converter(lines, version).run())


if __name__ == "__main__":
    main(sys.argv)
