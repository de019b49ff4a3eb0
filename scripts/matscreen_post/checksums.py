"""The integrity checksums of a matscreen output (docs/output.md, "Checksums").

matscreen writes, with every output file, the SHA-256 of each dataset (/checksums/dataset and
/checksums/sha256, sorted by path), the digest of that manifest in the root attribute
`checksums_sha256`, and last the digest of every other root attribute in
`root_attributes_sha256`. This module recomputes them from what h5py reads, independently of
the C code that wrote them:

    dataset: sha256 of the values in row-major order, numbers as little-endian bytes,
             fixed-width strings as their NUL-padded bytes;
    manifest: sha256(bytes of /checksums/dataset + bytes of /checksums/sha256);
    root attributes: sorted by name; for each: name, NUL, a type letter and the value
             ('s' + bytes + NUL, 'i' + little-endian int64, 'f' + little-endian float64).

Files written before the checksums existed have no /checksums group: `Manifest.of()` returns
None for them and nothing is checked.
"""
import hashlib
import struct

import numpy as np

ROOT_DIGEST = "root_attributes_sha256"
MANIFEST_DIGEST = "checksums_sha256"


class DamagedFile(Exception):
    """A dataset or attribute whose content does not match the checksum written with it."""


def _bytes(value):
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(value)


def array_digest(arr):
    """sha256 hex of an array as matscreen hashes a dataset."""
    arr = np.asarray(arr)
    if arr.dtype.kind == "S":
        data = np.ascontiguousarray(arr).tobytes()
    elif arr.dtype.kind in "iuf":
        data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    else:
        raise TypeError("matscreen never writes datasets of type %s" % arr.dtype)
    return hashlib.sha256(data).hexdigest()


def root_attributes_digest(f):
    """sha256 hex of the root attributes of an open h5py file (all but the digest itself)."""
    h = hashlib.sha256()
    for name in sorted(f.attrs.keys(), key=lambda n: n.encode("utf-8")):
        if name == ROOT_DIGEST:
            continue
        v = f.attrs[name]
        h.update(name.encode("utf-8") + b"\0")
        if isinstance(v, (bytes, np.bytes_, str)):
            h.update(b"s" + _bytes(v) + b"\0")
        elif isinstance(v, (np.integer, int)):
            h.update(b"i" + struct.pack("<q", int(v)))
        elif isinstance(v, (np.floating, float)):
            h.update(b"f" + struct.pack("<d", float(v)))
        else:
            raise DamagedFile("root attribute %s has a type matscreen never writes" % name)
    return h.hexdigest()


def _text(value):
    return _bytes(value).rstrip(b"\0").decode("utf-8", errors="replace")


class Manifest:
    """The checksums of one open file: `digest[path]` for every dataset it covers."""

    def __init__(self, f, label):
        self.label = label
        try:
            names = f["checksums/dataset"][()]
            hexes = f["checksums/sha256"][()]
        except (OSError, KeyError) as exc:
            raise DamagedFile("%s: the checksum manifest (/checksums) is damaged: it cannot be read (%s)"
                              % (label, exc)) from exc
        want = _text(f.attrs.get(MANIFEST_DIGEST, b""))
        have = hashlib.sha256(np.ascontiguousarray(names).tobytes() +
                              np.ascontiguousarray(hexes).tobytes()).hexdigest()
        if want != have or len(names) != len(hexes):
            raise DamagedFile("%s: the checksum manifest (/checksums) is damaged: its checksum does not match"
                              % label)
        if _text(f.attrs.get(ROOT_DIGEST, b"")) != root_attributes_digest(f):
            raise DamagedFile("%s: the root attributes are damaged: their checksum does not match" % label)
        self.digest = {_text(n): _text(h) for n, h in zip(names, hexes)}

    @staticmethod
    def of(f, label):
        """The file's manifest (checks the root attributes and the manifest itself), or None for
        a file written before checksums existed."""
        if "checksums" not in f:
            return None
        return Manifest(f, label)

    def read(self, f, path):
        """f[path][()] after checking it against its checksum (DamagedFile if it differs or cannot
        be read)."""
        path = "/" + path.strip("/")
        try:
            arr = f[path][()]
        except OSError as exc:
            raise DamagedFile("%s: dataset %s is damaged: it cannot be read (%s)" % (self.label, path, exc)) from exc
        want = self.digest.get(path)
        if want is None:
            raise DamagedFile("%s: dataset %s is not covered by the checksums written with the file"
                              % (self.label, path))
        if array_digest(arr) != want:
            raise DamagedFile("%s: dataset %s is damaged: its checksum does not match the one written with the file"
                              % (self.label, path))
        return arr

    def check_all(self, f):
        """[(path, verdict)] for every dataset of the file; verdict 'ok' or why not."""
        out = []
        seen = set()

        def visit(name, obj):
            import h5py
            if isinstance(obj, h5py.Dataset) and not name.startswith("checksums/"):
                seen.add("/" + name)
        f.visititems(visit)
        for path in sorted(set(self.digest) | seen):
            if path not in seen:
                out.append((path, "missing"))
                continue
            try:
                self.read(f, path)
                out.append((path, "ok"))
            except DamagedFile as exc:
                out.append((path, str(exc).split(": ", 2)[-1]))
        return out


def seal(f):
    """Write new checksums into an output opened for writing (h5py mode 'r+') after changing it on
    purpose (a test fixture, a hand-made subset). Afterwards the file no longer proves that it is
    what matscreen wrote, only that it has not changed since it was sealed."""
    import h5py
    paths = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not name.startswith("checksums/"):
            paths.append("/" + name)
    f.visititems(visit)
    paths.sort(key=lambda p: p.encode("utf-8"))
    names = np.array([p.encode("utf-8") for p in paths], dtype="S256")
    hexes = np.array([array_digest(f[p][()]).encode() for p in paths], dtype="S64")
    if "checksums" in f:
        del f["checksums"]
    f["checksums/dataset"] = names
    f["checksums/sha256"] = hexes
    digest = hashlib.sha256(names.tobytes() + hexes.tobytes()).hexdigest()
    f.attrs.create(MANIFEST_DIGEST, np.bytes_(digest.encode()), dtype="S65")
    if ROOT_DIGEST in f.attrs:
        del f.attrs[ROOT_DIGEST]
    f.attrs.create(ROOT_DIGEST, np.bytes_(root_attributes_digest(f).encode()), dtype="S65")
