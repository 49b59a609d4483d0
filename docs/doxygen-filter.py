#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Doxygen INPUT_FILTER for memtree's headers (docs/Doxyfile).

The headers are commented in kernel-doc style, which Doxygen does not read
as such. This filter rewrites a header, line for line (the line count never
changes, so Doxygen's warnings point at the real lines):

* `/** name - text` drops the `name - ` prefix: `text` becomes the brief.
* In a comment before a function, `@arg: text` becomes `\\param arg text`
  and `Returns ...` at the start of a line becomes `\\return ...`.
* In a comment before a struct, `@field: text` (with its indented
  continuation lines) is moved onto the field's declaration as a
  `/** text */` prefix, so that each field is documented where it is
  declared.
* Anywhere else in a doc comment, `@name` becomes `\\p name`.
* A trailing `/* text */` on a #define, enumerator or field becomes
  `/**< text */`.
* A plain `/* text */` comment right before a run of #defines documents
  every macro of the run (a Doxygen member group).
* The header's own comment (`/*` then ` * NAME.h: text`) becomes its
  `\\file` documentation, without which Doxygen lists no function.

Markdown pages (*.md) only get `@` and `<word` outside code escaped, and
the code spans of table rows written as <code> (Doxygen would read
commands in them).

usage: doxygen-filter.py FILE   (the filtered text goes to stdout)
"""

import re
import sys

FIELD = re.compile(r"^(\s*\*\s*)@(\w+(?:,\s*@\w+)*):\s*(.*)$")
CONT = re.compile(r"^\s*\*\s{2,}(\S.*)$")
NAME_PREFIX = re.compile(r"^(\s*(?:/\*\*|\*)\s*)(?:(?:struct|enum)\s+)?[\w.]+(?:\(\))? - (.*)$")
INLINE_AT = re.compile(r"(?<![\w\\])@(\w+)")
TRAILING = re.compile(r"^(.*\S)(\s+)/\*\s(.*?)\s*\*/\s*$")
PLAIN_COMMENT = re.compile(r"^\s*/\*\s(.*?)\s*\*/\s*$")
DEFINE = re.compile(r"^\s*#\s*define\s+\w+")


def escape(text):
    """@refs inside text that goes into a doc comment."""
    return INLINE_AT.sub(r"\\p \1", text)


def following_code(lines, i):
    """The first line after the comment ending at line @i that is code."""
    for line in lines[i + 1:]:
        if line.strip():
            return line
    return ""


def member_name(line):
    """The member a struct line declares, if any."""
    m = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", line)  # function pointer
    if m:
        return m.group(1)
    m = re.match(r"^\s*}\s*(\w+)\s*;", line)  # end of a nested struct
    if m:
        return m.group(1)
    m = re.match(r"^\s*[\w\s\*]*?\b(\w+)\s*(?:\[[^\]]*\])?\s*(?::\s*\d+)?\s*;", line)
    if m and not line.lstrip().startswith(("}", "typedef")):
        return m.group(1)
    return None


def filter_text(text):
    lines = text.split("\n")
    out = list(lines)
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if line.lstrip().startswith("/**") and not line.lstrip().startswith("/**<"):
            # A doc comment: find its end.
            j = i
            while j < n and "*/" not in lines[j][(lines[j].find("/**") + 3) if j == i else 0:]:
                j += 1
            j = min(j, n - 1)
            code = following_code(lines, j)
            is_struct = bool(re.match(r"\s*(typedef\s+)?(struct|union|enum)\b[^;]*$", code))
            fields = {}
            k = i
            while k <= j:
                cur = lines[k]
                if k == i or (k == i + 1 and lines[i].strip() == "/**"):
                    m = NAME_PREFIX.match(cur)
                    if m:
                        rest = m.group(2)
                        cur = m.group(1) + rest[:1].upper() + rest[1:]
                m = FIELD.match(cur)
                if m and k > i:
                    names = re.findall(r"\w+", m.group(2))
                    name, desc = ", ".join(names), m.group(3)
                    if is_struct:
                        # Move the text (and its continuation lines) to the field.
                        parts = [desc]
                        out[k] = m.group(1).rstrip()
                        while k + 1 < j and CONT.match(lines[k + 1]) and \
                                not FIELD.match(lines[k + 1]):
                            k += 1
                            parts.append(CONT.match(lines[k]).group(1))
                            out[k] = " *"
                        for each in names:
                            fields[each] = escape(" ".join(parts))
                    else:
                        out[k] = m.group(1) + "\\param " + name + " " + escape(desc)
                    k += 1
                    continue
                body = re.match(r"^(\s*\*\s*)Returns\s+(.*)$", cur)
                if body and k > i and not is_struct:
                    cur = body.group(1) + "\\return " + body.group(2)
                out[k] = escape(cur)
                k += 1
            if fields:
                # Document each field where it is declared.
                depth = 0
                nested_open = {}
                k = j + 1
                while k < n:
                    decl = lines[k]
                    if depth == 1 or (depth == 2 and re.match(r"^\s*}\s*\w+\s*;", decl)):
                        name = member_name(decl)
                        if name in fields and (depth == 1 or decl.strip().startswith("}")):
                            target = k
                            if decl.strip().startswith("}"):
                                # A nested struct: document it at its opening line.
                                target = nested_open.get(depth, k)
                            indent = re.match(r"^\s*", out[target]).group(0)
                            out[target] = indent + "/** " + fields.pop(name) + " */ " + \
                                out[target].lstrip()
                    if re.match(r"^\s*(struct|union)\s*\{", decl):
                        nested_open = {2: k}
                    depth += decl.count("{") - decl.count("}")
                    if depth <= 0 and "}" in decl:
                        break
                    k += 1
            i = j + 1
            continue
        # A plain comment documenting a run of #defines: a member group
        # whose first member carries the text (DISTRIBUTE_GROUP_DOC shares
        # it with the others).
        m = PLAIN_COMMENT.match(line)
        if m and i + 1 < n and DEFINE.match(lines[i + 1]) and \
                not TRAILING.match(lines[i + 1]):
            last = i + 1
            while True:
                while last + 1 < n and lines[last].rstrip().endswith("\\"):
                    last += 1  # a macro continued on the next line
                if last + 1 < n and DEFINE.match(lines[last + 1]):
                    last += 1
                    continue
                break
            out[i] = "/** @{ */ /** " + escape(m.group(1)) + " */"
            if last + 1 < n:
                out[last + 1] = "/** @} */ " + lines[last + 1]
            i = last + 2
            continue
        # The file comment: `/*` then ` * NAME.h: text`.
        if line.strip() == "/*" and i + 1 < n and \
                re.match(r"^\s*\*\s*[\w/]+\.h:", lines[i + 1]) and "\\file" not in text[:0]:
            out[i] = "/** \\file"
            out[i + 1] = re.sub(r"^(\s*\*\s*)[\w/]+\.h:\s*(.)",
                                lambda mm: mm.group(1) + mm.group(2).upper(),
                                lines[i + 1])
            i += 2
            continue
        m = TRAILING.match(line)
        if m and not line.lstrip().startswith(("/*", "*")):
            code = m.group(1)
            if DEFINE.match(code) or code.rstrip().endswith((",", ";")) or \
                    re.match(r"^\s*\w+\s*(=\s*[^,]*)?,?$", code):
                out[i] = code + m.group(2) + "/**< " + escape(m.group(3)) + " */"
        i += 1
    return "\n".join(out)


def filter_markdown(text):
    """A Markdown page: `@` and `<word` outside code are text, not Doxygen
    commands or HTML tags."""
    out = []
    fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
        elif not fence:
            parts = line.split("`")
            for k in range(0, len(parts), 2):  # outside inline code
                parts[k] = re.sub(r"<(?=[A-Za-z_/])", r"\\<", parts[k].replace("@", "\\@"))
            if line.lstrip().startswith("|") and len(parts) > 2:
                # Doxygen reads commands inside code spans of table cells:
                # write those spans as <code> with entities instead.
                for k in range(1, len(parts) - 1, 2):
                    code = parts[k].replace("&", "&amp;").replace("<", "&lt;")
                    code = code.replace(">", "&gt;").replace("@", "&#64;")
                    code = code.replace("|", "&#124;").replace("\\", "&#92;")
                    parts[k] = "<code>" + code + "</code>"
                line = "".join(parts)
            else:
                line = "`".join(parts)
        out.append(line)
    return "\n".join(out)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: doxygen-filter.py FILE")
    with open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    if sys.argv[1].endswith(".md"):
        sys.stdout.write(filter_markdown(text))
    else:
        sys.stdout.write(filter_text(text))


if __name__ == "__main__":
    main()
