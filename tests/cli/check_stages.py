"""CLI test of the stage list: `matscreen info stages` against src/driver/stages.def, and every
option the specs list against `matscreen check`.

usage: check_stages.py MATSCREEN SOURCE_ROOT

1. `info stages` (text and --json) lists exactly the stages of stages.def, in its order, and
   `info stages NAME` prints each one's options; an unknown NAME is a usage error with a
   suggestion.
2. Every option of every stage (and every keep rule), set to the example value its spec gives,
   is accepted by `matscreen check` in an otherwise valid campaign; an option without an
   example (a path that must exist) is at least a known key: with a missing file the error
   names the option, not "unknown key". A key that no spec lists is refused (the negative
   control: the campaign would otherwise accept anything).
3. `matscreen check` shows every option of every stage of a campaign (and the campaign
   section's), as given or the spec's default.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

exe, root = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(*args, cwd=None):
    p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


# The list as the source declares it: the MS_STAGE(name) lines of stages.def.
with open(os.path.join(root, "src", "driver", "stages.def")) as f:
    listed = re.findall(r"^MS_STAGE\((\w+)\)", f.read(), re.M)
check(len(listed) >= 7, f"stages.def lists the stages: {listed}")

rc, out, err = run("info", "stages")
check(rc == 0, f"info stages: exit {rc}: {err}")
printed = [l.split()[0] for l in out.splitlines() if l and not l.startswith((" ", "'", "stages of"))]
check(printed == listed, f"info stages lists stages.def in order: {printed} vs {listed}")

rc, out, err = run("info", "stages", "--json")
check(rc == 0, f"info stages --json: exit {rc}: {err}")
doc = json.loads(out)
stages = doc["stages"]
check([s["name"] for s in stages] == listed, "--json lists stages.def in order")
keep_keys = doc["keep"]
check({k["key"] for k in keep_keys} >= {"top_k", "top_fraction", "max_energy_above_best_eV_per_atom"},
      f"keep rules listed: {[k['key'] for k in keep_keys]}")

for s in stages:
    rc, out, err = run("info", "stages", s["name"])
    check(rc == 0, f"info stages {s['name']}: exit {rc}")
    for o in s["options"]:
        check(re.search(r"^  %s " % re.escape(o["key"]), out, re.M) is not None,
              f"info stages {s['name']} prints option {o['key']}")
rc, out, err = run("info", "stages", "relx")
check(rc == 1 and "unknown stage 'relx' (did you mean 'relax'?)" in err, f"unknown stage: {rc} {err}")

# A valid campaign with every funnel stage; one option is set per check.
HEAD = """campaign: {name: stages-test, seed: 5}
potential: bush1994
search:
  - generator: prototype_substitution
    prototypes: [perovskite_cubic]
    sites: {A: [Sr2+, Ca2+], B: [Ti4+], X: [O2-]}
"""
BASE = {
    "prefilter": {"rules": "{charge_neutral: true}"},
    "single_point": {},
    "surrogate": {"rounds": "1", "batch_per_round": "2"},
    "relax": {},
    "dedup": {},
    "hull": {},
}


def campaign(stage, key, value, shortlist=None):
    items = []
    for name in listed:
        if name not in BASE:
            continue
        opts = dict(BASE[name])
        if name == stage:
            opts[key] = value
        items.append("  - {" + ", ".join([f"stage: {name}"] + [f"{k}: {v}" for k, v in opts.items()]) + "}")
    text = HEAD + "funnel:\n" + "\n".join(items) + "\n"
    sl = {"size": "2"}
    if shortlist:
        sl[shortlist[0]] = shortlist[1]
    text += "shortlist: {" + ", ".join(f"{k}: {v}" for k, v in sl.items()) + "}\n"
    return text


with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "c.yaml")

    def check_text(text):
        with open(path, "w") as f:
            f.write(text)
        return run("check", path, "--no-calibrate", cwd=tmp)

    rc, out, err = check_text(campaign(None, None, None))
    check(rc == 0, f"the base campaign passes check: {err.strip()[-300:]}")

    tried = 0
    for s in stages:
        for o in s["options"]:
            key, ex = o["key"], o["example"]
            missing = ex == ""
            value = '"no-such-file.h5"' if missing else ex
            if s["section"] == "funnel":
                text = campaign(s["name"], key, value)
                where = f"funnel[{[n for n in listed if n in BASE].index(s['name'])}].{key}"
            else:
                text = campaign(None, None, None, shortlist=(key, value))
                where = f"{s['section']}.{key}"
            rc, out, err = check_text(text)
            tried += 1
            if missing:
                check(rc == 1 and "unknown key" not in err and where in err,
                      f"{s['name']}.{key}: a known key whose missing file is named: {err.strip()[-300:]}")
            else:
                check(rc == 0, f"{s['name']}.{key}: {ex} accepted by check: {err.strip()[-300:]}")
    # Every keep rule, on a stage that takes it (the hull keeps by distance to the hull only).
    for k in keep_keys:
        stage = "hull" if k["key"] == "max_e_above_hull_eV_per_atom" else "single_point"
        rc, out, err = check_text(campaign(stage, "keep", "{%s: %s}" % (k["key"], k["example"])))
        tried += 1
        check(rc == 0, f"keep.{k['key']}: {k['example']} accepted on {stage}: {err.strip()[-300:]}")
    check(tried >= 35, f"options tried: {tried}")

    # Negative controls: a key no spec lists, and a value out of the spec's range.
    rc, out, err = check_text(campaign("relax", "fmaxx", "0.01"))
    check(rc == 1 and "funnel[3].fmaxx: unknown key (did you mean 'fmax'?)" in err, f"unknown key refused: {err}")
    rc, out, err = check_text(campaign("dedup", "angle_tol", "50"))
    check(rc == 1 and "funnel[4].angle_tol: must be in [0.001, 45] degrees, got 50" in err,
          f"range from the spec: {err}")

# 3. `check` shows every option of every stage of a campaign, as given or the spec's default.
rc, out, err = run("info", "stages", "--json")
specs = {s["name"]: s["options"] for s in json.loads(out)["stages"]}
example = os.path.join(root, "examples", "perovskite-oxides", "campaign.yaml")
rc, out, err = run("check", example)
check(rc == 0, f"check of the perovskite example: {err[-300:]}")
lines = {}
for line in out.splitlines():
    m = re.match(r"^  ((?:funnel\[\d+\]|campaign|shortlist)\.\w+)\s+(.*)$", line)
    if m:
        lines[m.group(1)] = m.group(2)
order = ["prefilter", "single_point", "relax", "dedup", "hull"]
shown = 0
for k, name in enumerate(order):
    for o in specs[name]:
        v = lines.get(f"funnel[{k}].{o['key']}")
        check(v is not None, f"check shows funnel[{k}].{o['key']}")
        if v is not None and v.endswith("(default)"):
            check(v.startswith(o["default"]), f"funnel[{k}].{o['key']}: default '{v}' is the spec's '{o['default']}'")
        shown += v is not None
check(lines.get("funnel[2].fmax", "").startswith("0.01"), "a given value is shown as given: %s" % lines.get("funnel[2].fmax"))
check(lines.get("funnel[2].smax", "").endswith("(default)"), "an absent one as the default")
check(lines.get("campaign.keep_rejected") == "all (default)" and lines.get("campaign.seed") == "20261129",
      "the campaign section from its spec")
check(shown >= 15, f"options shown: {shown}")
# A section stage is created only when its section is given: `shortlist: ~` is no shortlist
# (no hull needed), as a missing section.
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "null_section.yaml")
    with open(path, "w") as f:
        f.write("campaign: {name: x, seed: 1}\npotential: bush1994\n"
                "search: [{generator: prototype_substitution, prototypes: [rocksalt], sites: {A: [Mg2+], X: [O2-]}}]\n"
                "funnel: [{stage: single_point}]\nshortlist: ~\n")
    rc, out, err = run("check", path)
    check(rc == 0 and "shortlist." not in out, f"shortlist: ~ is no shortlist: {err.strip()[-200:]}")

print(f"{len(failures)} failed" if failures else "all stage-list checks passed", file=sys.stderr)
sys.exit(1 if failures else 0)
