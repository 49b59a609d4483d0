# SPDX-License-Identifier: MIT
"""GDB helpers for programs linked with memtree.

Load with `source /path/to/memtree.py` (or `gdb -x memtree.py`). Commands:

  dump_address_spaces [CTX]   every address space of a context: its root
                              region and its flat view
  dump_memory_region [-D] [EXPR]
                              the region tree under a region, as `info mtree`
                              (-D: disabled regions too, as `info mtree -D`)
  dump_flatview [EXPR]        the flat view of an address space, as
                              `info mtree -f`

EXPR is a C expression of type `mt_ctx *`, `mt_as *`, `mt_region *` or
`mt_flatview *` (or one of those structs), or the name of an address space
(a region name also works for dump_memory_region). Quote a name that could
be read as an expression: dump_flatview "memory". Without EXPR the commands
use the context named `ctx` in the selected frame, an outer frame, or the
program's globals, and print everything in it.

The helpers read memtree's internal structures (src/internal.h,
src/fvtree.h) through gdb.Value, so they work on a stopped process and on a
core file alike, without calling into the program. The library needs debug
information (-g; the default RelWithDebInfo build has it).
"""

import sys

import gdb

U64_MASK = (1 << 64) - 1
TWO_64 = 1 << 64
SIZE_FULL = U64_MASK  # MT_SIZE_FULL: size 2^64 as the API shows it
INDENT = "  "  # one level of every `info mtree` format


class MemtreeError(gdb.GdbError):
    """An error reported to the user without a Python backtrace."""


# ---------------------------------------------------------------------------
# Reading values
# ---------------------------------------------------------------------------

_types = {}


def _type(name):
    """The gdb.Type of a memtree struct, or an error naming the cause."""
    t = _types.get(name)
    if t is None:
        try:
            t = gdb.lookup_type(name)
        except gdb.error:
            raise MemtreeError(
                "memtree: no debug information for '%s' (is the program "
                "linked with memtree, built with -g?)" % name)
        _types[name] = t
    return t


def _new_objfile(_event):
    _types.clear()


gdb.events.new_objfile.connect(_new_objfile)


def _uint(v):
    """An unsigned integer value of any width (__int128 included)."""
    try:
        n = int(v)
    except gdb.error:
        # gdb (before 14) refuses to convert integers wider than 8 bytes:
        # read them from memory instead.
        addr = v.address
        if addr is None:
            raise
        mem = gdb.selected_inferior().read_memory(int(addr), v.type.sizeof)
        return int.from_bytes(bytes(mem), sys.byteorder)
    return n & ((1 << (8 * v.type.sizeof)) - 1) if n < 0 else n


def _bool(v):
    return bool(int(v))


def _ptr(v):
    """The address held by a pointer value (0 for NULL)."""
    return int(v)


def _cstr(v):
    """A C string, or None for NULL."""
    if _ptr(v) == 0:
        return None
    try:
        return v.string(errors="replace")
    except gdb.error:
        return "<unreadable 0x%x>" % _ptr(v)


def _name(s):
    return "(null)" if s is None else s


def _at(base, i):
    """Element @i of an array that starts at pointer @base."""
    return (base + i).dereference()


class Region(object):
    """What the printers need of one struct mt_region."""

    _cache = {}

    @classmethod
    def get(cls, ptr):
        """The Region of an `mt_region *` value, None for NULL. Cached per
        address for one command."""
        addr = _ptr(ptr)
        if addr == 0:
            return None
        r = cls._cache.get(addr)
        if r is None:
            r = cls(ptr.cast(_type("struct mt_region").pointer()))
            cls._cache[addr] = r
        return r

    @classmethod
    def forget(cls):
        cls._cache = {}

    def __init__(self, ptr):
        v = ptr.dereference()
        self.ptr = ptr
        self.addr = _ptr(ptr)
        self.name = _cstr(v["name"])
        self.kind = str(v["kind"])
        self.size = _uint(v["size"])  # 0 .. 2^64
        self.offset = _uint(v["addr"])
        self.priority = int(v["priority"])
        self.enabled = _bool(v["enabled"])
        self.readonly = _bool(v["readonly"])
        self.nonvolatile = _bool(v["nonvolatile"])
        self.romd = _bool(v["romd_mode"])
        self.alias_offset = _uint(v["alias_offset"])
        self._alias = v["alias"]
        self._v = v
        self._subs = None

    @property
    def alias(self):
        """The alias target, or None."""
        return Region.get(self._alias)

    @property
    def api_size(self):
        """Size as the API returns it: MT_SIZE_FULL for 2^64."""
        return SIZE_FULL if self.size >= TWO_64 else self.size

    def subregions(self):
        """Live subregions in winning order: the slots read backwards,
        tombstones (NULL) skipped."""
        if self._subs is None:
            slots = self._v["subs"]
            n = _uint(self._v["nr_slots"])
            subs = []
            if _ptr(slots):
                for i in range(n - 1, -1, -1):
                    r = Region.get(_at(slots, i)["r"])
                    if r is not None:
                        subs.append(r)
            self._subs = subs
        return self._subs

    def type_word(self):
        """QEMU's type word: ramd, romd, rom, ram or i/o, taken from the
        final target of an alias chain."""
        r = self
        seen = set()
        while r.kind == "MT_REGION_ALIAS" and r.alias is not None:
            if r.addr in seen:
                break
            seen.add(r.addr)
            r = r.alias
        if r.kind == "MT_REGION_RAM_DEVICE":
            return "ramd"
        if r.kind == "MT_REGION_ROM_DEVICE":
            return "romd" if r.romd else "i/o"
        if r.kind == "MT_REGION_RAM":
            return "rom" if r.readonly else "ram"
        return "i/o"

    def kind_word(self):
        return self.kind.replace("MT_REGION_", "").lower().replace("_", " ")


def _human_size(size):
    """A size as `0x10000 (64 KiB)`; 2^64 as `2^64`."""
    if size >= TWO_64:
        return "2^64"
    for shift, unit in ((40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")):
        if size >= (1 << shift) and size % (1 << shift) == 0:
            return "0x%x (%d %s)" % (size, size >> shift, unit)
    return "0x%x" % size


def _size_last(size):
    """Offset of a region's last byte as `info mtree` prints it (QEMU's
    MR_SIZE): 0 for size 0, 2^64-1 for 2^64, else size-1."""
    if size == 0 or size == SIZE_FULL:
        return size
    return size - 1


class AddressSpace(object):
    def __init__(self, ptr):
        v = ptr.dereference()
        self.ptr = ptr
        self.addr = _ptr(ptr)
        self.name = _cstr(v["name"])
        self.root = Region.get(v["root"])
        self.view = _ptr(v["view"])
        self.view_ptr = v["view"]


class Context(object):
    def __init__(self, ptr):
        self.ptr = ptr.cast(_type("struct mt_ctx").pointer())
        v = self.ptr.dereference()
        n = _uint(v["nr_as"])
        self.spaces = [AddressSpace(_at(v["as"], i)) for i in range(n)]
        self.nr_regions = _uint(v["nr_regions"])
        self._v = v

    def regions(self):
        """Every live region (the context's list)."""
        p = self._v["regions"]
        seen = set()
        while _ptr(p) and _ptr(p) not in seen:
            seen.add(_ptr(p))
            yield Region.get(p)
            p = p.dereference()["all_next"]

    def view_numbers(self):
        """FlatView numbers as `info mtree -f` gives them: distinct views in
        the order of the first address space showing each."""
        numbers = {}
        for a in self.spaces:
            if a.view not in numbers:
                numbers[a.view] = len(numbers)
        return numbers


# ---------------------------------------------------------------------------
# Flat views: the ranges live in a persistent B+tree (src/fvtree.h)
# ---------------------------------------------------------------------------

class FlatRange(object):
    def __init__(self, v):
        self.start = _uint(v["start"])
        self.last = _uint(v["last"])
        self.region = Region.get(v["region"])
        self.offset = _uint(v["offset"])
        self.readonly = _bool(v["readonly"])
        self.nonvolatile = _bool(v["nonvolatile"])
        self.romd = _bool(v["romd"])
        self.dirty_log_mask = int(v["dirty_log_mask"])


def _walk_node(node, out, depth):
    if depth > 64:
        raise MemtreeError("memtree: flat view tree deeper than 64 levels")
    h = node.dereference()
    n = int(h["n"])
    if int(h["leaf"]):
        leaf = node.cast(_type("struct mt_fvt_leaf").pointer()).dereference()
        # r[] is a flexible array member: index it through a pointer.
        recs = leaf["r"].address.cast(_type("mt_flat_range").pointer())
        for i in range(n):
            out.append(FlatRange(_at(recs, i)))
    else:
        inner = node.cast(_type("struct mt_fvt_inner").pointer()).dereference()
        for i in range(n):
            _walk_node(inner["child"][i], out, depth + 1)


def flatview_ranges(view_ptr):
    """The ranges of a `mt_flatview *`, in address order."""
    out = []
    if _ptr(view_ptr) == 0:
        return out
    fv = view_ptr.cast(_type("struct mt_flatview").pointer()).dereference()
    tree = fv["tree"]
    if _ptr(tree) == 0:
        return out
    root = tree.dereference()["root"]
    if _ptr(root):
        _walk_node(root, out, 1)
    return out


def flatview_root(view_ptr):
    if _ptr(view_ptr) == 0:
        return None
    fv = view_ptr.cast(_type("struct mt_flatview").pointer()).dereference()
    return Region.get(fv["root"])


# ---------------------------------------------------------------------------
# `info mtree -f`
# ---------------------------------------------------------------------------

def format_range(fr):
    mr = fr.region
    line = "%s%016x-%016x (prio %d, %s%s): %s" % (
        INDENT, fr.start, fr.last, mr.priority if mr else 0,
        "nv-" if fr.nonvolatile else "",
        "rom" if fr.readonly else (mr.type_word() if mr else "i/o"),
        _name(mr.name if mr else None))
    if fr.offset:
        line += " @%016x" % fr.offset
    return line


def _as_line(a):
    root = a.root
    line = ' AS "%s", root: %s' % (_name(a.name),
                                   _name(root.name) if root else "(null)")
    if root is not None and root.alias is not None:
        line += ", alias %s" % _name(root.alias.name)
    return line


def format_view_block(ctx, view, view_ptr, number):
    """The `FlatView #N` block of one view, with every address space of
    @ctx publishing it."""
    lines = ["FlatView #%d" % number]
    for a in ctx.spaces if ctx else []:
        if a.view == view:
            lines.append(_as_line(a))
    root = flatview_root(view_ptr)
    lines.append(" Root memory region: %s" %
                 (_name(root.name) if root else "(none)"))
    ranges = flatview_ranges(view_ptr)
    if not ranges:
        lines.append(INDENT + "No rendered FlatView")
    for fr in ranges:
        lines.append(format_range(fr))
    lines.append("")
    return lines


def format_all_views(ctx):
    lines = []
    numbers = ctx.view_numbers()
    for view, number in sorted(numbers.items(), key=lambda kv: kv[1]):
        a = next(s for s in ctx.spaces if s.view == view)
        lines += format_view_block(ctx, view, a.view_ptr, number)
    return lines


# ---------------------------------------------------------------------------
# `info mtree` / `info mtree -D`
# ---------------------------------------------------------------------------

class TreePrinter(object):
    """Collects `info mtree` text. Output is kept as pieces of text, not
    lines, because an overflow marker may precede a line that is hidden."""

    def __init__(self, disabled):
        self.disabled = disabled
        self.queue = []  # alias targets, first-seen order
        self.queued = set()
        self.out = []

    def write(self, text):
        self.out.append(text)

    def _queue(self, target):
        if target is not None and target.addr not in self.queued:
            self.queued.add(target.addr)
            self.queue.append(target)

    def _line(self, r, level, start, end):
        text = "%s%016x-%016x (prio %d, %s%s): " % (
            INDENT * level, start, end, r.priority,
            "nv-" if r.nonvolatile else "", r.type_word())
        target = r.alias
        if r.kind == "MT_REGION_ALIAS" and target is not None:
            aoff = r.alias_offset
            text += "alias %s @%s %016x-%016x" % (
                _name(r.name), _name(target.name), aoff,
                (aoff + _size_last(r.api_size)) & U64_MASK)
        else:
            text += _name(r.name)
        return text + ("" if r.enabled else " [disabled]") + "\n"

    def region(self, r, level, base):
        """@r at @level in a container starting at @base, then its children
        sorted by address (higher priority first on equal addresses, list
        order otherwise). A hidden region's children are still printed.
        Depth first with an explicit stack: trees may be deeper than
        Python's recursion limit."""
        stack = [(r, level, base)]
        while stack:
            r, level, base = stack.pop()
            start = (base + r.offset) & U64_MASK
            end = (start + _size_last(r.api_size)) & U64_MASK
            if start < base or end < start:
                # QEMU prints the marker even when the line is hidden.
                self.write("[DETECTED OVERFLOW!] ")
            if r.kind == "MT_REGION_ALIAS":
                self._queue(r.alias)
            if r.enabled or self.disabled:
                self.write(self._line(r, level, start, end))
            kids = sorted(r.subregions(),
                          key=lambda c: (c.offset, -c.priority))
            for k in reversed(kids):
                stack.append((k, level + 1, start))

    def alias_blocks(self):
        i = 0
        while i < len(self.queue):  # the queue grows while printing
            r = self.queue[i]
            self.write("memory-region: %s\n" % _name(r.name))
            self.region(r, 1, 0)
            self.write("\n")
            i += 1

    def text(self):
        return "".join(self.out)


def _as_headers(ctx, root):
    """`address-space:` lines of every address space on @root, by name
    (strcmp; among equal names the later-created first)."""
    spaces = [a for a in ctx.spaces if a.root is root]
    spaces.reverse()
    spaces.sort(key=lambda a: _name(a.name).encode("utf-8", "surrogateescape"))
    return "".join("address-space: %s\n" % _name(a.name) for a in spaces)


def format_trees(ctx, disabled, only_root=None):
    """`info mtree` of @ctx, or only the block of the address spaces on
    @only_root (plus the alias targets it needs)."""
    tp = TreePrinter(disabled)
    seen = set()
    for a in ctx.spaces:
        root = a.root
        if root is None or root.addr in seen:
            continue
        seen.add(root.addr)
        if only_root is not None and root is not only_root:
            continue
        tp.write(_as_headers(ctx, root))
        tp.region(root, 1, 0)
        tp.write("\n")
    tp.alias_blocks()
    return tp.text()


def format_region(r, disabled):
    """The tree under @r, then a `memory-region:` block per alias target."""
    tp = TreePrinter(disabled)
    tp.write("memory-region: %s\n" % _name(r.name))
    tp.region(r, 1, 0)
    tp.write("\n")
    tp.alias_blocks()
    return tp.text()


# ---------------------------------------------------------------------------
# Finding objects
# ---------------------------------------------------------------------------

_KINDS = {"mt_ctx": "ctx", "mt_as": "as", "mt_region": "region",
          "mt_flatview": "view"}


def _classify(v):
    """('ctx'|'as'|'region'|'view', pointer value) for a value of one of
    memtree's handle types (pointer or struct), else None."""
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        target = t.target().strip_typedefs()
        if target.code == gdb.TYPE_CODE_STRUCT and target.tag in _KINDS:
            return _KINDS[target.tag], v
        return None
    if t.code == gdb.TYPE_CODE_STRUCT and t.tag in _KINDS:
        if v.address is None:
            return None
        return _KINDS[t.tag], v.address
    return None


def _usable(v):
    try:
        return v is not None and not v.is_optimized_out and \
            _classify(v) is not None and _classify(v)[0] == "ctx" and \
            _ptr(_classify(v)[1]) != 0
    except gdb.error:
        return False


def find_default_ctx():
    """The context named `ctx`: in the selected frame or an outer one, else
    a global or file-scope variable."""
    try:
        frame = gdb.selected_frame()
    except gdb.error:
        frame = None
    while frame is not None:
        try:
            v = frame.read_var("ctx")
        except (ValueError, gdb.error, RuntimeError):
            v = None
        if _usable(v):
            return Context(_classify(v)[1])
        try:
            frame = frame.older()
        except gdb.error:
            frame = None
    for lookup in (gdb.lookup_global_symbol, gdb.lookup_static_symbol):
        try:
            sym = lookup("ctx")
        except (gdb.error, AttributeError):
            sym = None
        if sym is not None:
            try:
                v = sym.value()
            except (gdb.error, TypeError):
                v = None
            if _usable(v):
                return Context(_classify(v)[1])
    try:
        v = gdb.parse_and_eval("ctx")
    except gdb.error:
        v = None
    if _usable(v):
        return Context(_classify(v)[1])
    raise MemtreeError("memtree: no context named 'ctx' here; give an "
                       "expression (an mt_ctx *, mt_as * or mt_region *)")


def _ctx_of(kind, ptr):
    """The Context an object belongs to (every object points to it)."""
    if kind == "ctx":
        return Context(ptr)
    struct = {"as": "struct mt_as", "region": "struct mt_region",
              "view": "struct mt_flatview"}[kind]
    c = ptr.cast(_type(struct).pointer()).dereference()["ctx"]
    return Context(c) if _ptr(c) else None


def _unquote(arg):
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
        return arg[1:-1], True
    return arg, False


def resolve(arg, allow_region_names=False):
    """(kind, pointer, Context) for a command argument: empty (the default
    context), an address-space name, a C expression, or (for region
    commands) a region name."""
    arg = arg.strip()
    if not arg:
        ctx = find_default_ctx()
        return "ctx", ctx.ptr, ctx
    name, quoted = _unquote(arg)
    default = None
    try:
        default = find_default_ctx()
    except gdb.GdbError:
        pass
    if default is not None:
        for a in default.spaces:
            if a.name == name:
                return "as", a.ptr, default
    if not quoted:
        try:
            v = gdb.parse_and_eval(arg)
        except gdb.error:
            v = None
        if v is not None:
            c = _classify(v)
            if c is None:
                raise MemtreeError(
                    "memtree: '%s' is a %s, not an mt_ctx *, mt_as *, "
                    "mt_region * or mt_flatview *" % (arg, v.type))
            if _ptr(c[1]) == 0:
                raise MemtreeError("memtree: '%s' is NULL" % arg)
            return c[0], c[1], _ctx_of(c[0], c[1])
    if allow_region_names and default is not None:
        for r in default.regions():
            if r.name == name:
                return "region", r.ptr, default
    raise MemtreeError("memtree: no address space%s named '%s', and not an "
                       "expression" % (" or region" if allow_region_names
                                       else "", name))


def _emit(text):
    """Write @text: a string, or a list of lines."""
    if isinstance(text, list):
        text = "".join(line + "\n" for line in text)
    gdb.write(text)


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

class DumpAddressSpaces(gdb.Command):
    """List every address space of a memtree context, with its root region
    and its flat view.

Usage: dump_address_spaces [CTX]
CTX is an expression giving the context (mt_ctx *), or any mt_as *,
mt_region * or mt_flatview * of it; without one, the context named `ctx`
(a local of the selected frame or an outer one, or a global) is used.
A view shared by several address spaces is printed once."""

    def __init__(self):
        super(DumpAddressSpaces, self).__init__("dump_address_spaces",
                                                gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        Region.forget()
        kind, ptr, ctx = resolve(arg)
        if ctx is None:
            raise MemtreeError("memtree: that object has no context")
        numbers = ctx.view_numbers()
        printed = {}
        lines = ["(mt_ctx *) 0x%x: %d address space%s, %d region%s" % (
            _ptr(ctx.ptr), len(ctx.spaces), "" if len(ctx.spaces) == 1 else "s",
            ctx.nr_regions, "" if ctx.nr_regions == 1 else "s")]
        for i, a in enumerate(ctx.spaces):
            root = a.root
            lines.append('address space %d: "%s" (mt_as *) 0x%x' %
                         (i, _name(a.name), a.addr))
            if root is None:
                lines.append("  root: (none)")
            else:
                lines.append("  root: %s (mt_region *) 0x%x, %s, size %s%s"
                             % (_name(root.name), root.addr, root.kind_word(),
                                _human_size(root.size), "" if root.enabled
                                else ", disabled"))
            number = numbers[a.view]
            if a.view in printed:
                lines.append('  flat view: (mt_flatview *) 0x%x, FlatView '
                             '#%d, the same as "%s"' %
                             (a.view, number, _name(printed[a.view])))
                continue
            printed[a.view] = a.name
            ranges = flatview_ranges(a.view_ptr)
            vroot = flatview_root(a.view_ptr)
            lines.append("  flat view: (mt_flatview *) 0x%x, FlatView #%d, "
                         "rendered from %s, %d range%s" %
                         (a.view, number,
                          _name(vroot.name) if vroot else "(none)",
                          len(ranges), "" if len(ranges) == 1 else "s"))
            for fr in ranges:
                lines.append(INDENT + format_range(fr))
        _emit(lines)


class DumpMemoryRegion(gdb.Command):
    """Print a memtree region tree in `info mtree` format.

Usage: dump_memory_region [-D] [EXPR]
EXPR: an mt_region * (the tree under it), an mt_as * or address-space name
(the tree of that address space), an mt_ctx * (every address space), or a
region name. Without EXPR: every address space of the context named `ctx`.
Alias targets met on the way get their own `memory-region:` blocks, as in
`info mtree`. -D also shows disabled regions (`info mtree -D`)."""

    def __init__(self):
        super(DumpMemoryRegion, self).__init__("dump_memory_region",
                                               gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        Region.forget()
        arg = arg.strip()
        disabled = False
        if arg == "-D" or arg.startswith("-D "):
            disabled = True
            arg = arg[2:].strip()
        kind, ptr, ctx = resolve(arg, allow_region_names=True)
        if kind == "ctx":
            _emit(format_trees(ctx, disabled))
        elif kind == "as":
            root = AddressSpace(ptr).root
            if root is None:
                raise MemtreeError("memtree: that address space has no root")
            _emit(format_trees(ctx, disabled, only_root=root))
        elif kind == "view":
            root = flatview_root(ptr)
            if root is None:
                raise MemtreeError("memtree: the empty view has no region")
            _emit(format_region(root, disabled))
        else:
            _emit(format_region(Region.get(ptr), disabled))


class DumpFlatview(gdb.Command):
    """Print memtree flat views in `info mtree -f` format.

Usage: dump_flatview [EXPR]
EXPR: an mt_as * or address-space name (the view it publishes, with every
address space sharing it), an mt_flatview * (any view, published or not),
or an mt_ctx * (every view, exactly as `info mtree -f`). Without EXPR: the
views of the context named `ctx`. Blocks are numbered as `info mtree -f`
numbers them."""

    def __init__(self):
        super(DumpFlatview, self).__init__("dump_flatview", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        Region.forget()
        kind, ptr, ctx = resolve(arg)
        if kind == "ctx":
            _emit(format_all_views(ctx))
            return
        if kind == "as":
            a = AddressSpace(ptr)
            view, view_ptr = a.view, a.view_ptr
        elif kind == "view":
            view, view_ptr = _ptr(ptr), ptr
        else:
            raise MemtreeError("memtree: dump_flatview wants an address space"
                               " or a flat view, not a region")
        numbers = ctx.view_numbers() if ctx else {}
        if view in numbers:
            _emit(format_view_block(ctx, view, view_ptr, numbers[view]))
        else:
            # A view no address space publishes (an old version, say).
            lines = format_view_block(None, view, view_ptr, 0)
            lines[0] = "FlatView (mt_flatview *) 0x%x, not published" % view
            _emit(lines)


DumpAddressSpaces()
DumpMemoryRegion()
DumpFlatview()
