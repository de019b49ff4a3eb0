#!/usr/bin/python3
"""Regression test of scripts/m3gnet_convert.py (numpy + h5py only, no torch).

A synthetic matgl checkpoint (small random weights, the real tensor names and layout: a ZIP
archive whose data.pkl is a protocol-2 pickle of an OrderedDict of _rebuild_tensor_v2 calls on
persistent storages, written opcode by opcode here) is converted, and every dataset and
hyper-parameter of the output is compared with what was written. Then damaged or unsupported
checkpoints must be refused with a message naming the problem: use_phi, intensive readout,
state features, an unknown tensor, a wrong shape, a NaN, and a pickle that asks for a global
other than the three a state dict needs.

If M3GNET_CHECKPOINTS names the folder holding matgl's checkpoint folders, both real
checkpoints are converted too and must give byte-identical copies of inputs/models/*.h5.

usage: check_convert.py SOURCE_ROOT
"""
from __future__ import annotations

import copy
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[3]
CONVERT = ROOT / "scripts" / "m3gnet_convert.py"
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


# ---- a torch-style checkpoint, written without torch -------------------------------------------
def _unicode(s: str) -> bytes:
    b = s.encode()
    return pickle.BINUNICODE + struct.pack("<I", len(b)) + b


def _int(v: int) -> bytes:
    return pickle.BININT + struct.pack("<i", v)


def _tuple(items: list[bytes]) -> bytes:
    return pickle.MARK + b"".join(items) + pickle.TUPLE


def state_pickle(names_shapes, bad_global=False) -> bytes:
    od = pickle.GLOBAL + b"collections\nOrderedDict\n" + pickle.EMPTY_TUPLE + pickle.REDUCE
    out = [pickle.PROTO + b"\x02", od, pickle.MARK]
    for key, (name, shape) in enumerate(names_shapes):
        stride, acc = [], 1
        for n in reversed(shape):
            stride.insert(0, acc)
            acc *= n
        storage = _tuple([_unicode("storage"), pickle.GLOBAL + b"torch\nFloatStorage\n",
                          _unicode(str(key)), _unicode("cuda:0"), _int(acc)]) + pickle.BINPERSID
        fn = b"os\nsystem\n" if bad_global and key == 0 else b"torch._utils\n_rebuild_tensor_v2\n"
        args = _tuple([storage, _int(0), _tuple([_int(n) for n in shape]),
                       _tuple([_int(s) for s in stride]), pickle.NEWFALSE, od])
        out += [_unicode(name), pickle.GLOBAL + fn, args, pickle.REDUCE]
    out += [pickle.SETITEMS, pickle.STOP]
    return b"".join(out)


def tensor_shapes(hp):
    D, U, nt, F = hp["dim_node_embedding"], hp["units"], len(hp["element_types"]), 9
    R = 3 if hp["use_smooth"] else 9
    s = {"data_mean": (), "data_std": (), "model.bond_expansion.rbf.cutoff": (),
         "model.basis_expansion.sbf.cutoff": (), "element_refs.property_offset": (nt,),
         "element_refs.onehot": (nt, nt),
         "model.embedding.layer_node_embedding.weight": (nt, D),
         "model.embedding.layer_edge_embedding.layers.0.weight": (D, R),
         "model.embedding.layer_edge_embedding.layers.0.bias": (D,)}
    for k in range(hp["nblocks"]):
        t = f"model.three_body_interactions.{k}."
        s[t + "update_network_atom.layers.0.weight"] = (F, D)
        s[t + "update_network_atom.layers.0.bias"] = (F,)
        s[t + "update_network_bond.layers.0.weight"] = (D, F)
        s[t + "update_network_bond.gates.0.weight"] = (D, F)
        g = f"model.graph_layers.{k}.conv."
        for mlp in ("edge_update_func", "node_update_func"):
            for part in ("layers", "gates"):
                for i, sh in ((0, (U, 3 * D)), (2, (U, U)), (4, (D, U))):
                    s[f"{g}{mlp}.{part}.{i}.weight"] = sh
                    s[f"{g}{mlp}.{part}.{i}.bias"] = (sh[0],)
        s[g + "edge_weight_func.weight"] = (D, R)
        s[g + "node_weight_func.weight"] = (D, R)
    for part in ("layers", "gates"):
        for i, sh in ((0, (D, D)), (2, (U, D)), (4, (U, U)), (6, (1, U))):
            s[f"model.final_layer.gated.{part}.{i}.weight"] = sh
            s[f"model.final_layer.gated.{part}.{i}.bias"] = (sh[0],)
    return s


def make_checkpoint(folder: Path, hp: dict, tensors: dict, bad_global=False):
    folder.mkdir(parents=True, exist_ok=True)
    model = {"@class": "Potential", "@module": "matgl.apps.pes", "@model_version": 3,
             "kwargs": {"model": {"@class": "M3GNet", "@module": "matgl.models._m3gnet",
                                  "@model_version": 2, "init_args": hp}}}
    (folder / "model.json").write_text(json.dumps(model))
    items = [(n, t.shape) for n, t in tensors.items()]
    with zipfile.ZipFile(folder / "state.pt", "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", state_pickle(items, bad_global))
        for key, t in enumerate(tensors.values()):
            z.writestr(f"archive/data/{key}", np.ascontiguousarray(t, dtype="<f4").tobytes())
        z.writestr("archive/version", "3\n")


def base_hp():
    return {"element_types": ["H", "O", "Pu"], "dim_state_embedding": 0, "ntypes_state": None,
            "max_n": 3, "max_l": 3, "nblocks": 2, "rbf_type": "SphericalBessel",
            "is_intensive": False, "readout_type": "weighted_atom", "task_type": "regression",
            "cutoff": 5.0, "threebody_cutoff": 4.0, "ntargets": 1, "use_smooth": False,
            "use_phi": False, "activation_type": "swish", "dim_edge_embedding": 4,
            "dim_node_embedding": 4, "dim_state_feats": None, "include_state": False,
            "units": 3}


def random_tensors(hp, rng):
    t = {}
    for name, shape in tensor_shapes(hp).items():
        t[name] = rng.standard_normal(shape).astype(np.float32)
    t["data_mean"] = np.float32(0.0).reshape(())
    t["data_std"] = np.float32(1.5).reshape(())
    t["model.bond_expansion.rbf.cutoff"] = np.float32(5.0).reshape(())
    t["model.basis_expansion.sbf.cutoff"] = np.float32(5.0).reshape(())
    return t


def convert(src: Path, out: Path):
    return subprocess.run([sys.executable, str(CONVERT), str(src), str(out), "--name", "synthetic"],
                          capture_output=True, text=True)


def main() -> int:
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # a good synthetic checkpoint round-trips exactly
        for smooth in (False, True):
            hp = base_hp()
            hp["use_smooth"] = smooth
            tensors = random_tensors(hp, rng)
            make_checkpoint(tmp / f"good{smooth}", hp, tensors)
            res = convert(tmp / f"good{smooth}", tmp / f"good{smooth}.h5")
            check(res.returncode == 0, f"conversion of the synthetic checkpoint: {res.stderr}")
            if res.returncode:
                continue
            with h5py.File(tmp / f"good{smooth}.h5") as f:
                a = f.attrs
                check(a["format"] == b"matscreen-m3gnet" and a["format_version"] == 1, "format")
                check(a["units"] == 3 and a["nblocks"] == 2 and a["use_smooth"] == int(smooth),
                      "hyper-parameters")
                check(list(a["element_types"]) == [b"H", b"O", b"Pu"], "element_types")
                check(list(a["element_z"]) == [1, 8, 94], "element_z")
                check(a["data_std"] == 1.5 and a["licence"] == b"BSD-3-Clause", "attributes")
                check(len(a["sha256_state_pt"]) == 64, "source checksum")
                check(np.array_equal(f["element_refs"][()],
                                     tensors["element_refs.property_offset"]), "element_refs")
                n = 0
                for name, arr in f["weights"].items():
                    check(arr.dtype == np.float32 and np.array_equal(arr[()], tensors[name]),
                          f"weights/{name}")
                    n += 1
                check(n == len(tensor_shapes(hp)) - 6, f"number of weight datasets {n}")

        def refused(tag, expect, hp_change=None, tensor_change=None, bad_global=False):
            hp = base_hp()
            if hp_change:
                hp_change(hp)
            tensors = random_tensors(base_hp(), rng)
            if tensor_change:
                tensor_change(tensors)
            make_checkpoint(tmp / tag, hp, tensors, bad_global)
            res = convert(tmp / tag, tmp / f"{tag}.h5")
            check(res.returncode == 1 and expect in res.stderr,
                  f"{tag}: expected a refusal mentioning '{expect}', got rc {res.returncode}: "
                  f"{res.stderr.strip()}")
            check(not (tmp / f"{tag}.h5").exists(), f"{tag}: no output file after a refusal")

        refused("phi", "use_phi", hp_change=lambda h: h.update(use_phi=True))
        refused("intensive", "is_intensive", hp_change=lambda h: h.update(is_intensive=True))
        refused("state", "dim_state_embedding", hp_change=lambda h: h.update(dim_state_embedding=16))
        refused("maxl", "max_l", hp_change=lambda h: h.update(max_l=4))
        refused("extra", "unexpected tensors",
                tensor_change=lambda t: t.update({"model.state_embedding.weight":
                                                  np.zeros((2, 4), np.float32)}))
        refused("shape", "has shape (4, 8)", tensor_change=lambda t: t.update(
            {"model.graph_layers.1.conv.edge_weight_func.weight": np.zeros((4, 8), np.float32)}))

        def poke_nan(t):
            t["model.final_layer.gated.gates.2.weight"][1, 2] = np.nan
        refused("nan", "not finite", tensor_change=poke_nan)
        refused("global", "unexpected object os.system", bad_global=True)

        # the real checkpoints, when available, give the committed files byte for byte
        ck = os.environ.get("M3GNET_CHECKPOINTS")
        if ck:
            for folder, name in (("M3GNet-MP-2021.2.8-PES", "m3gnet-mp-2021.2.8"),
                                 ("M3GNet-MatPES-PBE-v2025.1-PES", "m3gnet-matpes-pbe-2025.1")):
                committed = ROOT / "inputs" / "models" / f"{name}.h5"
                with h5py.File(committed) as f:
                    desc = f.attrs["description"].decode()
                out = tmp / f"{name}.h5"
                res = subprocess.run([sys.executable, str(CONVERT), str(Path(ck) / folder),
                                      str(out), "--name", name, "--description", desc],
                                     capture_output=True, text=True)
                check(res.returncode == 0 and out.read_bytes() == committed.read_bytes(),
                      f"{folder} does not convert to {committed.name}: {res.stderr}")
        else:
            print("M3GNET_CHECKPOINTS not set: the committed model files were not re-converted")
    print(f"check_convert: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
