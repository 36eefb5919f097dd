"""PLY header parsing and bounded element access, shared by the PLY readers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SceneFormatError

#: PLY scalar type names -> numpy type codes (without byte order)
PLY_TYPES = {
    "char": "i1",
    "int8": "i1",
    "uchar": "u1",
    "uint8": "u1",
    "short": "i2",
    "int16": "i2",
    "ushort": "u2",
    "uint16": "u2",
    "int": "i4",
    "int32": "i4",
    "uint": "u4",
    "uint32": "u4",
    "float": "f4",
    "float32": "f4",
    "double": "f8",
    "float64": "f8",
}
MAX_HEADER = 1 << 20  # a header longer than 1 MiB is not a PLY header


@dataclass
class PlyProperty:
    name: str
    dtype: str  # numpy code without byte order, e.g. "f4"
    list_count: str | None = None  # numpy code of a list's count, None for scalars


@dataclass
class PlyElement:
    name: str
    count: int
    properties: list[PlyProperty] = field(default_factory=list)

    @property
    def has_lists(self) -> bool:
        return any(p.list_count is not None for p in self.properties)

    def names(self) -> list[str]:
        return [p.name for p in self.properties]

    def row_dtype(self, order: str) -> np.dtype:
        """Packed structured dtype of one row (scalar properties only)."""
        return np.dtype([(p.name, order + p.dtype) for p in self.properties])

    def prop(self, name: str) -> PlyProperty | None:
        for p in self.properties:
            if p.name == name:
                return p
        return None


@dataclass
class PlyHeader:
    format: str  # "ascii" | "binary_little_endian" | "binary_big_endian"
    elements: list[PlyElement]
    data_offset: int  # byte offset of the first element's data
    comments: list[str] = field(default_factory=list)

    @property
    def byte_order(self) -> str:
        return ">" if self.format == "binary_big_endian" else "<"

    def element(self, name: str) -> PlyElement | None:
        for e in self.elements:
            if e.name == name:
                return e
        return None


def read_header_bytes(path: Path) -> bytes:
    """The file's first bytes, enough to hold any sane PLY header."""
    with open(path, "rb") as f:
        return f.read(MAX_HEADER)


def parse_header(head: bytes, path: Path | str) -> PlyHeader:
    """Parse a PLY header from the start of a file; raise SceneFormatError when malformed."""
    if not head.startswith(b"ply"):
        raise SceneFormatError(path, "not a PLY file (it does not start with 'ply')")
    end = head.find(b"end_header")
    if end < 0:
        if len(head) >= MAX_HEADER:  # the caller read a full header's worth
            raise SceneFormatError(
                path, f"PLY header is longer than {MAX_HEADER >> 20} MiB (no sane splat file's is)"
            )
        raise SceneFormatError(path, "PLY header has no 'end_header' line (truncated or corrupt)")
    nl = head.find(b"\n", end)
    if nl < 0:
        raise SceneFormatError(path, "PLY header is truncated after 'end_header'")
    try:
        text = head[:end].decode("ascii")
    except UnicodeDecodeError:
        raise SceneFormatError(path, "PLY header contains non-ASCII bytes (corrupt)") from None
    lines = [ln.strip() for ln in text.replace("\r", "\n").split("\n")]
    fmt: str | None = None
    elements: list[PlyElement] = []
    comments: list[str] = []
    for i, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        words = line.split()
        key = words[0]
        if key in ("comment", "obj_info"):
            comments.append(line[len(key) :].strip())
        elif key == "format":
            if len(words) != 3 or words[1] not in (
                "ascii",
                "binary_little_endian",
                "binary_big_endian",
            ):
                raise SceneFormatError(path, f"PLY header line {i}: unknown format {line!r}")
            fmt = words[1]
        elif key == "element":
            if len(words) != 3:
                raise SceneFormatError(
                    path, f"PLY header line {i}: malformed element line {line!r}"
                )
            try:
                count = int(words[2])
            except ValueError:
                raise SceneFormatError(
                    path, f"PLY header line {i}: element count {words[2]!r} is not a number"
                ) from None
            if count < 0:
                raise SceneFormatError(path, f"PLY header line {i}: negative element count")
            elements.append(PlyElement(words[1], count))
        elif key == "property":
            if not elements:
                raise SceneFormatError(path, f"PLY header line {i}: property before any element")
            if len(words) == 5 and words[1] == "list":
                ct, it = PLY_TYPES.get(words[2]), PLY_TYPES.get(words[3])
                if ct is None or it is None or ct.startswith("f"):
                    raise SceneFormatError(path, f"PLY header line {i}: bad list types {line!r}")
                elements[-1].properties.append(PlyProperty(words[4], it, ct))
            elif len(words) == 3 and words[1] in PLY_TYPES:
                elements[-1].properties.append(PlyProperty(words[2], PLY_TYPES[words[1]]))
            else:
                raise SceneFormatError(path, f"PLY header line {i}: malformed property {line!r}")
        else:
            raise SceneFormatError(path, f"PLY header line {i}: unexpected {line!r}")
    if fmt is None:
        raise SceneFormatError(path, "PLY header has no 'format' line")
    for e in elements:
        names = e.names()
        if len(set(names)) != len(names):
            raise SceneFormatError(path, f"PLY element '{e.name}' repeats a property name")
    return PlyHeader(fmt, elements, nl + 1, comments)


def binary_offsets(
    header: PlyHeader, file_size: int, path: Path | str, needed: list[str]
) -> dict[str, int]:
    """Byte offset of each element named in `needed`, checked against the file size.

    Elements are laid out one after another; an element with list properties has no
    fixed size, so elements after it cannot be located (they are reported as missing).
    """
    offsets: dict[str, int] = {}
    pos = header.data_offset
    for e in header.elements:
        if e.has_lists:
            break
        size = e.row_dtype("<").itemsize * e.count
        if e.name in needed:
            offsets[e.name] = pos
            if pos + size > file_size:
                have = max(file_size - pos, 0) // max(e.row_dtype("<").itemsize, 1)
                raise SceneFormatError(
                    path,
                    f"header says {e.count} '{e.name}' rows but the file holds only "
                    f"{have} (truncated file, or the header lies)",
                )
        pos += size
    return offsets


def ascii_element_rows(header: PlyHeader, body: bytes, path: Path | str, name: str) -> np.ndarray:
    """Rows of scalar element `name` from an ASCII PLY body, (count, P) float64."""
    lines = body.split(b"\n")
    li = 0
    for e in header.elements:
        if e.name != name:
            li += e.count
            if li > len(lines):
                break
            continue
        if e.has_lists:
            raise SceneFormatError(path, f"ASCII element '{name}' has list properties")
        if li + e.count > len(lines):
            raise SceneFormatError(
                path,
                f"header says {e.count} '{name}' rows but the file "
                f"holds only {max(len(lines) - li, 0)} lines",
            )
        chunk = b" ".join(lines[li : li + e.count])
        p = len(e.properties)
        try:
            vals = np.array(chunk.split(), dtype=np.float64)
        except ValueError:
            raise SceneFormatError(
                path, f"ASCII element '{name}' holds a value that is not a number"
            ) from None
        if vals.size != e.count * p:
            raise SceneFormatError(
                path,
                f"ASCII element '{name}': expected {e.count} rows of "
                f"{p} values, found {vals.size} values",
            )
        return vals.reshape(e.count, p)
    raise SceneFormatError(path, "ASCII PLY has fewer lines than its header promises")
