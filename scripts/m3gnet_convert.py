#!/usr/bin/python3
"""Convert a matgl M3GNet checkpoint folder (model.json + state.pt) to a matscreen model file.

usage: m3gnet_convert.py CHECKPOINT_DIR OUT.h5 --name NAME [--description TEXT]

The checkpoint is read without torch: state.pt is a ZIP archive holding a pickled state dict
whose tensors point at raw little-endian storages in the same archive. The pickle is loaded with
the standard library's Unpickler restricted to the three globals a state dict needs
(collections.OrderedDict, torch._utils._rebuild_tensor_v2 and the storage classes), so a
checkpoint cannot run code while it is read. Hyper-parameters come from model.json; data_mean,
data_std and the element references from state.pt (what matgl itself uses after loading).

The output layout (format_version 1) is documented in docs/models.md, section "M3GNet model
files". Weights are written in float32 exactly as stored in the checkpoint. Hyper-parameters that
matscreen's C implementation does not implement are refused here (and again by the C loader).
Needs numpy and h5py (Debian: /usr/bin/python3).
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import io
import json
import pickle
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np

FORMAT = "matscreen-m3gnet"
FORMAT_VERSION = 1
CONVERTER_VERSION = "1"
LICENCE = "BSD-3-Clause"
LICENCE_HOLDER = "Copyright (c) 2022, Materials Virtual Lab (matgl)"
CITATION = ("C. Chen and S. P. Ong, A universal graph deep learning interatomic potential for the "
            "periodic table, Nat. Comput. Sci. 2, 718-728 (2022), doi:10.1038/s43588-022-00349-3")

# Element symbols by atomic number (1..118), to record Z next to matgl's element_types.
SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se "
    "Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb "
    "Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm "
    "Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og").split()

# torch storage class name -> numpy little-endian dtype
STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
}


class ConversionError(Exception):
    """A checkpoint this converter (or matscreen's C code) cannot handle."""


# --------------------------------------------------------------------------------------------
# Reading state.pt
# --------------------------------------------------------------------------------------------
class _StorageRef:
    """Placeholder for a storage named by a persistent id; bytes are attached later."""

    def __init__(self, dtype: str, key: str, numel: int):
        self.dtype, self.key, self.numel = dtype, key, numel


class _TensorRef:
    """A tensor as the pickle describes it: storage + offset + size + stride."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


class _StorageType:
    def __init__(self, name: str):
        self.name = name


def _rebuild_tensor(storage, offset, size, stride, *_ignored):
    return _TensorRef(storage, offset, size, stride)


class _StateUnpickler(pickle.Unpickler):
    """Only the globals a torch state dict uses; anything else is refused."""

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise ConversionError(f"state.pt: unexpected object {module}.{name} in the pickle "
                              "(only a plain state dict of tensors is accepted)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise ConversionError(f"state.pt: unexpected persistent id {pid!r}")
        return _StorageRef(STORAGE_DTYPES[pid[1].name], str(pid[2]), int(pid[4]))


def read_state(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a torch zip checkpoint as numpy arrays (dtype as stored)."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ConversionError(f"{path}: not a torch zip checkpoint ({exc})") from exc
    with archive:
        names = archive.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise ConversionError(f"{path}: expected one data.pkl entry, found {len(pkl)}")
        prefix = pkl[0][: -len("data.pkl")]
        order = prefix + "byteorder"
        if order in names and archive.read(order).decode().strip() != "little":
            raise ConversionError(f"{path}: big-endian checkpoints are not supported")
        state = _StateUnpickler(io.BytesIO(archive.read(pkl[0]))).load()
        if not isinstance(state, dict):
            raise ConversionError(f"{path}: the pickle is not a state dict")
        out = {}
        for name, ref in state.items():
            if not isinstance(ref, _TensorRef):
                raise ConversionError(f"{path}: entry {name} is not a tensor")
            raw = archive.read(prefix + "data/" + ref.storage.key)
            flat = np.frombuffer(raw, dtype=ref.storage.dtype)
            if flat.size != ref.storage.numel:
                raise ConversionError(f"{path}: storage {ref.storage.key} of {name} holds "
                                      f"{flat.size} values, the pickle says {ref.storage.numel}")
            itemsize = flat.dtype.itemsize
            if ref.size:
                last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride))
                if min(ref.size) > 0 and (ref.offset < 0 or last >= flat.size):
                    raise ConversionError(f"{path}: tensor {name} reaches past its storage")
                arr = np.lib.stride_tricks.as_strided(
                    flat[ref.offset:], shape=ref.size,
                    strides=tuple(s * itemsize for s in ref.stride))
            else:
                arr = flat[ref.offset:ref.offset + 1].reshape(())
            out[name] = np.array(arr, dtype=arr.dtype.newbyteorder("="), copy=True)
        return out


# --------------------------------------------------------------------------------------------
# Hyper-parameters and checks
# --------------------------------------------------------------------------------------------
def hyper_parameters(model_json: dict) -> dict:
    try:
        args = model_json["kwargs"]["model"]["init_args"]
        cls = model_json["kwargs"]["model"]["@class"]
    except (KeyError, TypeError) as exc:
        raise ConversionError(f"model.json: no kwargs.model.init_args ({exc})") from exc
    if cls != "M3GNet":
        raise ConversionError(f"model.json: model class {cls!r}, expected 'M3GNet'")
    return args


def check_supported(hp: dict) -> None:
    """Refuse what the C implementation does not implement (docs/models.md lists it)."""
    def need(key, ok, what):
        if key not in hp:
            raise ConversionError(f"model.json: hyper-parameter {key} missing")
        if not ok(hp[key]):
            raise ConversionError(f"model.json: {key} = {hp[key]!r} is not supported ({what})")

    need("max_n", lambda v: v == 3, "max_n must be 3")
    need("max_l", lambda v: v == 3, "max_l must be 3")
    need("use_phi", lambda v: v is False, "use_phi = true (angle-dependent three-body basis) "
         "is not implemented")
    need("is_intensive", lambda v: v is False, "intensive readouts are not implemented")
    need("readout_type", lambda v: v == "weighted_atom", "only the per-atom readout is implemented")
    need("activation_type", lambda v: v == "swish", "only swish is implemented")
    need("rbf_type", lambda v: v == "SphericalBessel", "only the spherical Bessel basis")
    need("ntargets", lambda v: v == 1, "one target (energy)")
    need("task_type", lambda v: v == "regression", "regression")
    need("include_state", lambda v: v is False, "state features are not implemented")
    need("dim_state_embedding", lambda v: v in (0, None), "state features are not implemented")
    need("dim_state_feats", lambda v: v in (0, None), "state features are not implemented")
    need("nblocks", lambda v: isinstance(v, int) and 1 <= v <= 16, "1..16 blocks")
    need("units", lambda v: isinstance(v, int) and 1 <= v <= 4096, "1..4096")
    need("dim_node_embedding", lambda v: isinstance(v, int) and 1 <= v <= 4096, "1..4096")
    need("dim_edge_embedding", lambda v: v == hp.get("dim_node_embedding"),
         "edge and node embeddings must have the same size")
    need("cutoff", lambda v: isinstance(v, (int, float)) and 0 < v <= 20, "0 < cutoff <= 20")
    need("threebody_cutoff", lambda v: isinstance(v, (int, float)) and 0 < v <= hp["cutoff"],
         "0 < threebody_cutoff <= cutoff")
    need("use_smooth", lambda v: isinstance(v, bool), "a boolean")
    types = hp.get("element_types")
    if not isinstance(types, list) or not types or any(t not in SYMBOLS for t in types):
        raise ConversionError("model.json: element_types must be a list of element symbols")
    if len(set(types)) != len(types):
        raise ConversionError("model.json: element_types has duplicates")


def expected_shapes(hp: dict) -> dict[str, tuple]:
    """Every tensor the network uses, with its shape ([out, in], PyTorch layout)."""
    D, U, nt = hp["dim_node_embedding"], hp["units"], len(hp["element_types"])
    F = hp["max_n"] * hp["max_l"]                       # three-body features
    R = hp["max_n"] if hp["use_smooth"] else F          # pair basis size (degree_rbf)
    s = {
        "model.embedding.layer_node_embedding.weight": (nt, D),
        "model.embedding.layer_edge_embedding.layers.0.weight": (D, R),
        "model.embedding.layer_edge_embedding.layers.0.bias": (D,),
        "element_refs.property_offset": (nt,),
    }
    for k in range(hp["nblocks"]):
        t = f"model.three_body_interactions.{k}."
        s[t + "update_network_atom.layers.0.weight"] = (F, D)
        s[t + "update_network_atom.layers.0.bias"] = (F,)
        s[t + "update_network_bond.layers.0.weight"] = (D, F)
        s[t + "update_network_bond.gates.0.weight"] = (D, F)
        g = f"model.graph_layers.{k}.conv."
        for mlp in ("edge_update_func", "node_update_func"):
            for part in ("layers", "gates"):
                for idx, shape in ((0, (U, 3 * D)), (2, (U, U)), (4, (D, U))):
                    s[f"{g}{mlp}.{part}.{idx}.weight"] = shape
                    s[f"{g}{mlp}.{part}.{idx}.bias"] = (shape[0],)
        s[g + "edge_weight_func.weight"] = (D, R)
        s[g + "node_weight_func.weight"] = (D, R)
    for part in ("layers", "gates"):
        for idx, shape in ((0, (D, D)), (2, (U, D)), (4, (U, U)), (6, (1, U))):
            s[f"model.final_layer.gated.{part}.{idx}.weight"] = shape
            s[f"model.final_layer.gated.{part}.{idx}.bias"] = (shape[0],)
    return s


# Entries of the state dict that are read for checks only, or are not used at all.
SCALARS = ("data_mean", "data_std", "model.bond_expansion.rbf.cutoff",
           "model.basis_expansion.sbf.cutoff")
UNUSED = ("element_refs.onehot",)


def check_state(state: dict, hp: dict) -> dict[str, np.ndarray]:
    shapes = expected_shapes(hp)
    known = set(shapes) | set(SCALARS) | set(UNUSED)
    extra = sorted(set(state) - known)
    if extra:
        raise ConversionError(f"state.pt: unexpected tensors (a layer this converter does not "
                              f"know, e.g. state features or use_phi): {', '.join(extra[:5])}")
    for name, shape in shapes.items():
        if name not in state:
            raise ConversionError(f"state.pt: tensor {name} missing")
        if tuple(state[name].shape) != shape:
            raise ConversionError(f"state.pt: tensor {name} has shape {state[name].shape}, "
                                  f"expected {shape} from model.json")
        if state[name].dtype.kind != "f" or not np.all(np.isfinite(state[name])):
            raise ConversionError(f"state.pt: tensor {name} is not finite floating point")
    for name in SCALARS:
        if name not in state or state[name].shape != () or not np.isfinite(state[name]):
            raise ConversionError(f"state.pt: scalar {name} missing or not finite")
    for name in ("model.bond_expansion.rbf.cutoff", "model.basis_expansion.sbf.cutoff"):
        if abs(float(state[name]) - hp["cutoff"]) > 1e-6:
            raise ConversionError(f"state.pt: {name} = {float(state[name])} differs from "
                                  f"cutoff {hp['cutoff']} in model.json")
    if not float(state["data_std"]) > 0:
        raise ConversionError("state.pt: data_std must be positive")
    return {name: state[name] for name in shapes}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert(src: Path, out: Path, name: str, description: str) -> None:
    model_json_path, state_path = src / "model.json", src / "state.pt"
    for p in (model_json_path, state_path):
        if not p.is_file():
            raise ConversionError(f"{p}: missing (a matgl checkpoint folder holds model.json "
                                  "and state.pt)")
    model_json = json.loads(model_json_path.read_text())
    hp = hyper_parameters(model_json)
    check_supported(hp)
    state = read_state(state_path)
    weights = check_state(state, hp)
    types = hp["element_types"]
    tmp = out.with_name(out.name + ".tmp")
    # No modification times in the object headers, so that converting the same checkpoint
    # twice gives the same bytes (the committed files can be checked by their checksum).
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    with h5py.File(h5py.h5f.create(bytes(tmp), h5py.h5f.ACC_TRUNC, fcpl=fcpl)) as f:
        a = f.attrs
        a["format"] = np.bytes_(FORMAT)
        a["format_version"] = np.int32(FORMAT_VERSION)
        a["name"] = np.bytes_(name)
        a["description"] = np.bytes_(description)
        a["source"] = np.bytes_(src.name)
        a["source_files"] = np.bytes_("model.json state.pt")
        a["sha256_model_json"] = np.bytes_(sha256(model_json_path))
        a["sha256_state_pt"] = np.bytes_(sha256(state_path))
        a["matgl_version"] = np.bytes_(
            "unknown (the checkpoint records class versions only: Potential @model_version "
            f"{model_json.get('@model_version')}, M3GNet @model_version "
            f"{model_json['kwargs']['model'].get('@model_version')})")
        a["licence"] = np.bytes_(LICENCE)
        a["licence_holder"] = np.bytes_(LICENCE_HOLDER)
        a["citation"] = np.bytes_(CITATION)
        a["converter"] = np.bytes_(f"scripts/m3gnet_convert.py {CONVERTER_VERSION}")
        # hyper-parameters
        for key in ("units", "max_n", "max_l", "nblocks"):
            a[key] = np.int32(hp[key])
        a["dim_node_embedding"] = np.int32(hp["dim_node_embedding"])
        a["dim_edge_embedding"] = np.int32(hp["dim_edge_embedding"])
        a["cutoff"] = np.float64(hp["cutoff"])
        a["threebody_cutoff"] = np.float64(hp["threebody_cutoff"])
        a["use_smooth"] = np.int32(bool(hp["use_smooth"]))
        a["use_phi"] = np.int32(bool(hp["use_phi"]))
        a["is_intensive"] = np.int32(bool(hp["is_intensive"]))
        a["activation"] = np.bytes_(hp["activation_type"])
        a["readout"] = np.bytes_(hp["readout_type"])
        a["rbf_type"] = np.bytes_(hp["rbf_type"])
        a["data_mean"] = np.float64(state["data_mean"])   # float32 value, exactly
        a["data_std"] = np.float64(state["data_std"])
        a["element_types"] = np.array([t.encode() for t in types], dtype="S3")
        a["element_z"] = np.array([SYMBOLS.index(t) + 1 for t in types], dtype=np.int32)
        f.create_dataset("element_refs", data=weights.pop("element_refs.property_offset"),
                         track_times=False)
        g = h5py.Group(h5py.h5g.create(f.id, b"weights", gcpl=gcpl))
        for key, arr in weights.items():  # float32 as stored in the checkpoint
            g.create_dataset(key, data=arr, track_times=False)
    tmp.replace(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint", type=Path, help="matgl checkpoint folder (model.json, state.pt)")
    ap.add_argument("output", type=Path, help="HDF5 model file to write")
    ap.add_argument("--name", required=True, help="model name, e.g. m3gnet-mp-2021.2.8")
    ap.add_argument("--description", default="", help="one line on what the model is")
    a = ap.parse_args(argv)
    try:
        convert(a.checkpoint, a.output, a.name, a.description or f"M3GNet ({a.checkpoint.name})")
    except ConversionError as exc:
        print(f"m3gnet_convert: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
