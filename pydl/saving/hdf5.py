"""A read-only HDF5 parser in pure Python for the files Keras writes (``model.weights.h5``).

Why not h5py: the HDF5 C library crashes (segmentation faults) or hangs on mutated files
-- a few percent of randomly damaged Keras weight files do it -- so a file from elsewhere
cannot be opened with it in-process. This parser reads the subset h5py writes by default
and Keras uses, checks every offset and length against the bytes it was given, and turns
anything else into ``HDF5Error`` (a ``ValueError``). It never allocates more than the
input's size: a dataset is copied out only after its shape, dtype and byte count are
checked against the storage it points to.

Supported (HDF5 file format specification 3.0 terms):
    superblock versions 0-3; object headers version 1 and 2 (with continuation blocks);
    groups as symbol tables (v1 B-tree + local heap + symbol table nodes) or as compact
    link messages; hard links only; datasets with a simple or scalar dataspace, an IEEE
    float (16/32/64 bit) or two's-complement integer (8-64 bit) datatype of either byte
    order, and compact or contiguous storage; attribute names.
Refused with a clear error: soft and external links, chunked, filtered (compressed),
external or virtual storage, dense (fractal-heap) link or attribute storage, shared
messages, and every other datatype (strings, compounds, ...) in datasets.

    f = File(data)                      # bytes of an .h5 file
    f.root["layers/dense/vars"].keys()  # ["0", "1"]
    ds = f.root["layers/dense/vars/0"]  # ds.shape, ds.dtype, ds.attribute_names
    kernel = ds.read()                  # a new NumPy array
"""

from __future__ import annotations

import math
import struct

import numpy as np

SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MAX_DEPTH = 64           # B-tree levels, nested group paths
_MAX_MESSAGES = 1 << 16   # header messages of one object
_MAX_RANK = 32

# Header message types read here.
_DATASPACE, _LINK_INFO, _DATATYPE, _FILL_OLD, _FILL, _LINK, _EXTERNAL = 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7
_LAYOUT, _FILTERS, _ATTRIBUTE, _CONTINUATION, _SYMBOL_TABLE, _ATTRIBUTE_INFO = \
    0x8, 0xB, 0xC, 0x10, 0x11, 0x15


class HDF5Error(ValueError):
    """The bytes are not an HDF5 file this parser reads (damaged, foreign or unsupported)."""


class _Bytes:
    """The file's bytes with bounds-checked reads; offsets are absolute."""

    def __init__(self, data):
        self.view = memoryview(data).cast("B")
        self.size = len(self.view)

    def span(self, offset: int, length: int, what: str) -> memoryview:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise HDF5Error(f"{what} at offset {offset} (+{length} bytes) lies outside the "
                            f"{self.size}-byte file")
        return self.view[offset:offset + length]

    def unpack(self, fmt: str, offset: int, what: str) -> tuple:
        size = struct.calcsize(fmt)
        return struct.unpack_from(fmt, self.span(offset, size, what))

    def uint(self, offset: int, size: int, what: str) -> int:
        return int.from_bytes(self.span(offset, size, what), "little")


class File:
    """An HDF5 file parsed from ``data`` (bytes-like); ``root`` is its root group."""

    def __init__(self, data):
        self._bytes = _Bytes(data)
        self._raw = data if isinstance(data, bytes) else bytes(data)
        self._objects: dict[int, object] = {}
        base = self._find_superblock()
        version = self._bytes.uint(base + 8, 1, "superblock version")
        if version in (0, 1):
            offsets, lengths = self._bytes.unpack("<BB", base + 13, "superblock sizes")
            self._set_sizes(offsets, lengths)
            addresses = base + (24 if version == 0 else 28)
            self.base = self._address_at(addresses, "base address")
            # root group symbol table entry: name offset, then the object header address
            root_entry = addresses + 4 * self.offset_size
            root = self._address_at(root_entry + self.offset_size, "root group address")
        elif version in (2, 3):
            offsets, lengths = self._bytes.unpack("<BB", base + 9, "superblock sizes")
            self._set_sizes(offsets, lengths)
            self.base = self._address_at(base + 12, "base address")
            root = self._address_at(base + 12 + 3 * self.offset_size, "root group address")
        else:
            raise HDF5Error(f"superblock version {version} is not supported")
        if self.base != base:
            raise HDF5Error(f"base address {self.base} differs from the superblock's offset {base}")
        self.root = self._object(root, "/")
        if not isinstance(self.root, Group):
            raise HDF5Error("the root object is not a group")

    # -- low level ------------------------------------------------------------------
    def _find_superblock(self) -> int:
        offset = 0
        while offset + 8 <= self._bytes.size:
            if bytes(self._bytes.span(offset, 8, "signature")) == SIGNATURE:
                return offset
            offset = 512 if offset == 0 else offset * 2
        raise HDF5Error("no HDF5 signature: not an HDF5 file")

    def _set_sizes(self, offsets: int, lengths: int) -> None:
        if offsets not in (2, 4, 8) or lengths not in (2, 4, 8):
            raise HDF5Error(f"unsupported sizes of offsets ({offsets}) or lengths ({lengths})")
        self.offset_size, self.length_size = offsets, lengths
        self.undefined = (1 << (8 * offsets)) - 1

    def _address_at(self, offset: int, what: str):
        value = self._bytes.uint(offset, self.offset_size, what)
        return None if value == self.undefined else value

    def _absolute(self, address, what: str) -> int:
        if address is None:
            raise HDF5Error(f"{what}: undefined address")
        return self.base + address

    def _object(self, address, path: str):
        """The group or dataset whose object header is at ``address`` (cached)."""
        key = self._absolute(address, f"object {path!r}")
        found = self._objects.get(key)
        if found is None:
            messages = _HeaderReader(self, key, path).messages()
            types = {kind for kind, _, _ in messages}
            if types & {_SYMBOL_TABLE, _LINK, _LINK_INFO} or not types & {_DATASPACE, _LAYOUT}:
                found = Group(self, path, messages)
            else:
                found = Dataset(self, path, messages)
            self._objects[key] = found
        return found

    def _string_at(self, offset: int, limit: int, what: str) -> str:
        """A NUL-terminated string starting at ``offset``, within ``limit`` bytes."""
        self._bytes.span(offset, 1, what)
        end = self._raw.find(b"\0", offset, min(offset + limit, len(self._raw)))
        if end < 0:
            raise HDF5Error(f"{what}: unterminated string")
        try:
            return self._raw[offset:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HDF5Error(f"{what}: not UTF-8 ({exc})") from None


class _HeaderReader:
    """The messages of one object header: ``[(type, flags, payload offset/length)]``."""

    def __init__(self, file: File, address: int, path: str):
        self.file, self.bytes, self.address, self.path = file, file._bytes, address, path

    def messages(self) -> list:
        b, what = self.bytes, f"object header of {self.path!r}"
        if bytes(b.span(self.address, 4, what)) == b"OHDR":
            return self._version2(what)
        version, _, _, _, size = b.unpack("<BBHII", self.address, what)
        if version != 1:
            raise HDF5Error(f"{what}: version {version} is not supported")

        def read_block(out, blocks, pos, end):
            while pos + 8 <= end:
                kind, msize, flags = b.unpack("<HHB", pos, what)
                if pos + 8 + msize > end:
                    raise HDF5Error(f"{what}: message overruns its block")
                self._add(out, blocks, kind, flags, pos + 8, msize, what)
                pos += 8 + msize

        return self._walk_blocks((self.address + 16, size), read_block, what)

    def _version2(self, what: str) -> list:
        b = self.bytes
        version, flags = b.unpack("<BB", self.address + 4, what)
        if version != 2:
            raise HDF5Error(f"{what}: OHDR version {version} is not supported")
        pos = self.address + 6
        if flags & 0x20:
            pos += 16  # access, modification, change and birth times
        if flags & 0x10:
            pos += 4  # attribute storage phase change values
        width = 1 << (flags & 0x03)
        size = b.uint(pos, width, what)
        pos += width
        order = 2 if flags & 0x04 else 0

        def read_block(out, blocks, pos, end):
            while pos + 4 + order <= end:
                kind, msize, mflags = b.unpack("<BHB", pos, what)
                body = pos + 4 + order
                if body + msize > end:
                    raise HDF5Error(f"{what}: message overruns its block")
                self._add(out, blocks, kind, mflags, body, msize, what, chunk_v2=True)
                pos = body + msize

        return self._walk_blocks((pos, size), read_block, what)

    def _walk_blocks(self, first, read_block, what: str) -> list:
        """The messages of a header: `read_block(out, blocks, start, end)` parses one
        block's messages into `out` and queues its continuation blocks on `blocks`;
        every block is checked to lie in the file, and a block seen twice is a cycle."""
        blocks, out, seen = [first], [], set()
        while blocks:
            start, length = blocks.pop(0)
            if start in seen:
                raise HDF5Error(f"{what}: continuation blocks form a cycle")
            seen.add(start)
            self.bytes.span(start, length, what)
            read_block(out, blocks, start, start + length)
        return out

    def _add(self, out, blocks, kind, flags, body, size, what, chunk_v2=False):
        if len(out) >= _MAX_MESSAGES:
            raise HDF5Error(f"{what}: more than {_MAX_MESSAGES} messages")
        if flags & 0x02:
            raise HDF5Error(f"{what}: shared header messages are not supported")
        if kind == _CONTINUATION:
            f = self.file
            target = f._absolute(f._address_at(body, what), what)
            length = self.bytes.uint(body + f.offset_size, f.length_size, what)
            if chunk_v2:
                if bytes(self.bytes.span(target, 4, what)) != b"OCHK":
                    raise HDF5Error(f"{what}: continuation block without its OCHK signature")
                blocks.append((target + 4, length - 8))  # signature and checksum excluded
            else:
                blocks.append((target, length))
            return
        out.append((kind, flags, (body, size)))


def _payload(messages, kind):
    return [span for k, _, span in messages if k == kind]


class Group:
    """A group: ``keys()``, ``group[name]`` (a path with "/" walks subgroups), ``in``."""

    def __init__(self, file: File, path: str, messages):
        self._file, self.path, self._messages = file, path, messages
        self._links = None

    def _members(self) -> dict:
        if self._links is None:
            self._links = self._read_links()
        return self._links

    def _read_links(self) -> dict:
        f, b, what = self._file, self._file._bytes, f"group {self.path!r}"
        links = {}
        for body, _ in _payload(self._messages, _SYMBOL_TABLE):
            tree = f._address_at(body, what)
            heap = f._address_at(body + f.offset_size, what)
            heap_data, heap_size = self._local_heap(heap, what)
            self._walk_btree(tree, heap_data, heap_size, links, set(), 0)
        for body, size in _payload(self._messages, _LINK_INFO):
            flags = b.uint(body + 1, 1, what)
            pos = body + 2 + (8 if flags & 0x01 else 0)
            if f._address_at(pos, what) is not None:
                raise HDF5Error(f"{what}: dense link storage (a fractal heap) is not supported")
        for body, size in _payload(self._messages, _LINK):
            name, address = self._link(body, size, what)
            links[name] = address
        return links

    def _local_heap(self, address, what):
        f, b = self._file, self._file._bytes
        start = f._absolute(address, what)
        if bytes(b.span(start, 4, what)) != b"HEAP":
            raise HDF5Error(f"{what}: local heap signature missing")
        size = b.uint(start + 8, f.length_size, what)
        data = f._absolute(f._address_at(start + 8 + 2 * f.length_size, what), what)
        b.span(data, size, what)
        return data, size

    def _walk_btree(self, address, heap_data, heap_size, links, seen, depth):
        f, b, what = self._file, self._file._bytes, f"group {self.path!r}"
        start = f._absolute(address, what)
        if start in seen or depth > _MAX_DEPTH:
            raise HDF5Error(f"{what}: its B-tree has a cycle or is too deep")
        seen.add(start)
        if bytes(b.span(start, 4, what)) != b"TREE":
            raise HDF5Error(f"{what}: B-tree node signature missing")
        node_type, level, entries = b.unpack("<BBH", start + 4, what)
        if node_type != 0:
            raise HDF5Error(f"{what}: B-tree node of type {node_type}, expected a group node")
        pos = start + 8 + 2 * f.offset_size + f.length_size  # siblings, then key 0
        for _ in range(entries):
            child = f._address_at(pos, what)
            pos += f.offset_size + f.length_size
            if level > 0:
                self._walk_btree(child, heap_data, heap_size, links, seen, depth + 1)
            else:
                self._symbol_node(child, heap_data, heap_size, links, seen)

    def _symbol_node(self, address, heap_data, heap_size, links, seen):
        f, b, what = self._file, self._file._bytes, f"group {self.path!r}"
        start = f._absolute(address, what)
        if start in seen:
            raise HDF5Error(f"{what}: a symbol table node is listed twice")
        seen.add(start)
        if bytes(b.span(start, 4, what)) != b"SNOD":
            raise HDF5Error(f"{what}: symbol table node signature missing")
        count = b.uint(start + 6, 2, what)
        entry = 2 * f.offset_size + 24
        b.span(start + 8, count * entry, what)
        for i in range(count):
            pos = start + 8 + i * entry
            name_offset = b.uint(pos, f.offset_size, what)
            if name_offset >= heap_size:
                raise HDF5Error(f"{what}: a member name lies outside the local heap")
            name = f._string_at(heap_data + name_offset, heap_size - name_offset, what)
            if b.uint(pos + 2 * f.offset_size, 4, what) == 2:  # cache type 2: a soft link
                raise HDF5Error(f"{what}: the link {name!r} is a soft or external link (not allowed)")
            links[name] = f._address_at(pos + f.offset_size, what)

    def _link(self, body, size, what):
        f, b = self._file, self._file._bytes
        version, flags = b.unpack("<BB", body, what)
        if version != 1:
            raise HDF5Error(f"{what}: link message version {version} is not supported")
        pos = body + 2
        kind = 0
        if flags & 0x08:
            kind = b.uint(pos, 1, what)
            pos += 1
        pos += (8 if flags & 0x04 else 0) + (1 if flags & 0x10 else 0)
        width = 1 << (flags & 0x03)
        length = b.uint(pos, width, what)
        pos += width
        try:
            name = bytes(b.span(pos, length, what)).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HDF5Error(f"{what}: a link name is not UTF-8 ({exc})") from None
        if kind != 0:
            raise HDF5Error(f"{what}: the link {name!r} is a soft or external link (not allowed)")
        if pos + length + f.offset_size > body + size:
            raise HDF5Error(f"{what}: the link {name!r} overruns its message")
        return name, f._address_at(pos + length, what)

    def keys(self) -> list:
        return sorted(self._members())

    def __contains__(self, name) -> bool:
        try:
            self[name]
        except (KeyError, HDF5Error):
            return False
        return True

    def __getitem__(self, path: str):
        node = self
        parts = [p for p in str(path).split("/") if p]
        if len(parts) > _MAX_DEPTH:
            raise HDF5Error(f"path {path!r} is too deep")
        for part in parts:
            if not isinstance(node, Group):
                raise KeyError(f"{node.path!r} is a dataset, not a group (looking up {path!r})")
            members = node._members()
            if part not in members:
                raise KeyError(f"no member {part!r} in group {node.path!r}")
            child_path = node.path.rstrip("/") + "/" + part
            node = self._file._object(members[part], child_path)
        return node


_IEEE = {2: (10, 5, 10, 15), 4: (23, 8, 23, 127), 8: (52, 11, 52, 1023)}


class Dataset:
    """A dataset: ``shape``, ``dtype`` (NumPy), ``attribute_names``, ``nbytes``, ``read()``."""

    def __init__(self, file: File, path: str, messages):
        self._file, self.path = file, path
        what = f"dataset {path!r}"
        for kind, name in ((_FILTERS, "filtered (compressed)"), (_EXTERNAL, "external")):
            if _payload(messages, kind):
                raise HDF5Error(f"{what}: {name} storage is not supported")
        for kind, name in ((_DATASPACE, "dataspace"), (_DATATYPE, "datatype"), (_LAYOUT, "layout")):
            if len(_payload(messages, kind)) != 1:
                raise HDF5Error(f"{what}: expected one {name} message")
        self.shape = self._dataspace(*_payload(messages, _DATASPACE)[0], what)
        self.dtype = self._datatype(*_payload(messages, _DATATYPE)[0], what)
        self.nbytes = math.prod(self.shape) * self.dtype.itemsize
        self._storage = self._layout(*_payload(messages, _LAYOUT)[0], what)
        self.attribute_names = self._attribute_names(messages, what)

    def _dataspace(self, body, size, what):
        f, b = self._file, self._file._bytes
        version, rank, flags = b.unpack("<BBB", body, what)
        if version == 1:
            dims_at = body + 8
        elif version == 2:
            kind = b.uint(body + 3, 1, what)
            if kind == 2:
                raise HDF5Error(f"{what}: a null dataspace holds no data")
            dims_at = body + 4
        else:
            raise HDF5Error(f"{what}: dataspace version {version} is not supported")
        if rank > _MAX_RANK:
            raise HDF5Error(f"{what}: rank {rank} exceeds {_MAX_RANK}")
        if dims_at + rank * f.length_size > body + size:
            raise HDF5Error(f"{what}: dataspace message too short for rank {rank}")
        return tuple(b.uint(dims_at + i * f.length_size, f.length_size, what) for i in range(rank))

    def _datatype(self, body, size, what):
        b = self._file._bytes
        head, bits0, bits1, _, nbytes = b.unpack("<BBBBI", body, what)
        kind, version = head & 0x0F, head >> 4
        order = ">" if bits0 & 0x01 else "<"
        if version not in (1, 2, 3):
            raise HDF5Error(f"{what}: datatype version {version} is not supported")
        if kind == 0:  # fixed-point
            offset, precision = b.unpack("<HH", body + 8, what)
            if nbytes not in (1, 2, 4, 8) or offset != 0 or precision != 8 * nbytes:
                raise HDF5Error(f"{what}: integer type of {nbytes} bytes, offset {offset}, "
                                f"precision {precision} is not supported")
            return np.dtype(f"{order}{'i' if bits0 & 0x08 else 'u'}{nbytes}")
        if kind == 1:  # floating point
            if bits0 & 0x40:
                raise HDF5Error(f"{what}: VAX float byte order is not supported")
            offset, precision, exp_loc, exp_size, man_loc, man_size = \
                b.unpack("<HHBBBB", body + 8, what)
            bias = b.uint(body + 16, 4, what)
            ieee = _IEEE.get(nbytes)
            if ieee is None or offset != 0 or precision != 8 * nbytes or bits1 != 8 * nbytes - 1 \
                    or (exp_loc, exp_size, man_size, bias) != ieee or man_loc != 0:
                raise HDF5Error(f"{what}: a {nbytes}-byte float that is not IEEE 754 binary"
                                f"{8 * nbytes} is not supported")
            return np.dtype(f"{order}f{nbytes}")
        names = {3: "string", 4: "bitfield", 5: "opaque", 6: "compound", 7: "reference",
                 8: "enum (h5py's bool)", 9: "variable-length", 10: "array"}
        raise HDF5Error(f"{what}: datatype class {names.get(kind, kind)} is not supported in a "
                        f"weights dataset")

    def _layout(self, body, size, what):
        f, b = self._file, self._file._bytes
        version = b.uint(body, 1, what)
        if version in (3, 4):
            kind = b.uint(body + 1, 1, what)
            if kind == 0:
                length = b.uint(body + 2, 2, what)
                return ("compact", body + 4, length)
            if kind == 1:
                address = f._address_at(body + 2, what)
                length = b.uint(body + 2 + f.offset_size, f.length_size, what)
                return ("contiguous", address, length)
            names = {2: "chunked", 3: "virtual"}
            raise HDF5Error(f"{what}: {names.get(kind, kind)} storage is not supported")
        if version in (1, 2):
            rank, kind = b.unpack("<BB", body + 1, what)
            pos = body + 8
            if kind == 1:
                address = f._address_at(pos, what)
                return ("contiguous", address, self.nbytes)
            if kind == 0:
                pos += 4 * rank
                length = b.uint(pos, 4, what)
                return ("compact", pos + 4, length)
            raise HDF5Error(f"{what}: chunked storage is not supported")
        raise HDF5Error(f"{what}: layout message version {version} is not supported")

    def _attribute_names(self, messages, what) -> list:
        b = self._file._bytes
        for body, _ in _payload(messages, _ATTRIBUTE_INFO):
            flags = b.uint(body + 1, 1, what)
            pos = body + 2 + (2 if flags & 0x01 else 0)
            if self._file._address_at(pos, what) is not None:
                raise HDF5Error(f"{what}: dense attribute storage is not supported")
        names = []
        for body, size in _payload(messages, _ATTRIBUTE):
            version, _, name_size = b.unpack("<BBH", body, what)
            start = body + (8 if version < 3 else 9)
            if version not in (1, 2, 3) or name_size == 0 or start + name_size > body + size:
                raise HDF5Error(f"{what}: attribute message is damaged or of an unsupported version")
            names.append(self._file._string_at(start, name_size, what))
        return names

    def read(self) -> np.ndarray:
        """A new array holding the data, native byte order."""
        what = f"dataset {self.path!r}"
        kind, address, length = self._storage
        if length != self.nbytes:
            raise HDF5Error(f"{what}: its storage holds {length} bytes, its shape {self.shape} "
                            f"and dtype {self.dtype} need {self.nbytes}")
        if self.nbytes == 0:
            return np.zeros(self.shape, dtype=self.dtype.newbyteorder("="))
        start = address if kind == "compact" else self._file._absolute(address, what)
        raw = self._file._bytes.span(start, length, what)
        array = np.frombuffer(raw, dtype=self.dtype).reshape(self.shape)
        return array.astype(self.dtype.newbyteorder("="), copy=True)
