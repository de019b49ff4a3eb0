"""Writes the corpus of malformed campaign files and campaigns.expected (file, message fragment).

Run from this directory: ../../../util/python.sh make_bad_campaigns.py
Each file is a small valid campaign with exactly one defect (or raw bytes for syntax cases)."""
base = """campaign: {name: bad-case, seed: 11}
potential: bush1994
search:
  - generator: random_search
    compositions: [SrTiO3]
    formula_units: [1, 2]
    draws: 8
funnel:
  - {stage: single_point, keep: {top_k: 3}}
  - {stage: relax, cell: full, fmax: 0.05, keep: {max_energy_above_best_eV_per_atom: 1.0}}
"""
SEARCH = "search:\n  - generator: random_search\n    compositions: [SrTiO3]\n    formula_units: [1, 2]\n    draws: 8\n"
FUNNEL = ("funnel:\n  - {stage: single_point, keep: {top_k: 3}}\n"
          "  - {stage: relax, cell: full, fmax: 0.05, keep: {max_energy_above_best_eV_per_atom: 1.0}}\n")
cases = {}


def sub(name, old, new, expect):
    assert old in base, old
    cases[name] = (base.replace(old, new, 1), expect)


def raw(name, text, expect):
    cases[name] = (text, expect)


raw("empty", "", "is empty")
raw("only_comment", "# nothing here\n", "is empty")
raw("list_root", "- a\n- b\n", "must be a mapping")
raw("scalar_root", "just text\n", "must be a mapping")
raw("syntax_unclosed_flow", base.replace("{name: bad-case, seed: 11}", "{name: bad-case, seed: 11"), ":2:")
raw("syntax_bad_indent", base.replace("    compositions:", "   compositions:"), ":5:")
raw("tab_indent", base.replace("    draws: 8", "\tdraws: 8"), ":7:")
raw("duplicate_key", base + "potential: bush1994\n", "duplicate key 'potential'")
raw("two_documents", base + "---\ncampaign: {}\n", "one YAML document")
raw("alias_bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 10) + "]\n" for k in range(1, 10)) + base, "alias bomb")
raw("unknown_alias", base.replace("potential: bush1994", "potential: *pot"), "unknown alias")
raw("nul_byte", base.replace("seed: 11", "seed: 1\0"), "NUL byte")
sub("unknown_top_key", "funnel:", "funnell:", "did you mean 'funnel'")
sub("missing_seed", "{name: bad-case, seed: 11}", "{name: bad-case}", "missing required key 'seed'")
sub("negative_seed", "seed: 11", "seed: -1", "campaign.seed: must be >= 0")
sub("seed_not_int", "seed: 11", "seed: eleven", "campaign.seed: must be an integer")
sub("bad_name", "name: bad-case", "name: bad case/x", "campaign.name")
sub("unknown_campaign_key", "seed: 11}", "seed: 11, sede: 3}", "campaign.sede: unknown key (did you mean 'seed'?)")
sub("missing_potential", "potential: bush1994\n", "", "missing required key 'potential'")
sub("unknown_potential", "potential: bush1994", "potential: bush1995", "bush1994")
sub("potential_bad_accuracy", "potential: bush1994", "potential: {name: bush1994, accuracy: 0.5}", "potential.accuracy: must be in")
sub("potential_bad_method", "potential: bush1994", "potential: {name: bush1994, method: fmm}", "potential.method: must be auto, direct or pme")
sub("stage_potential_bad_method", "{stage: single_point, keep", "{stage: single_point, potential: {name: bush1994, method: pmee}, keep",
    "funnel[0].potential.method: must be auto, direct or pme, got 'pmee' (did you mean 'pme'?)")
sub("stage_potential_unknown", "{stage: single_point, keep", "{stage: single_point, potential: lewis_catlow1984, keep",
    "funnel[0].potential: unknown model 'lewis_catlow1984' (did you mean 'lewis_catlow1985'?)")
sub("stage_potential_no_energies", FUNNEL[len("funnel:\n"):], FUNNEL[len("funnel:\n"):] + "  - {stage: dedup, potential: bush1994}\n",
    "funnel[2].potential: the dedup stage evaluates no energies")
sub("species_outside_model", "compositions: [SrTiO3]", "compositions: [SrTiO3, ZnO]",
    "model 'bush1994' (funnel[0] single_point, funnel[1] relax) does not cover Zn2+ (search[0])")
sub("missing_search", SEARCH, "", "missing required key 'search'")
sub("search_not_list", "search:\n  - generator", "search:\n    generator", "search: must be a sequence")
sub("empty_search", SEARCH, "search: []\n", "empty search space")
sub("unknown_generator", "generator: random_search", "generator: random_serch", "random_search")
sub("missing_generator", "  - generator: random_search", "  - kind: random_search", "missing required key 'generator'")
sub("unknown_generator_key", "    draws: 8", "    draws: 8\n    drawz: 4", "drawz")
sub("draws_negative", "draws: 8", "draws: -8", "draws")
sub("unknown_composition_element", "compositions: [SrTiO3]", "compositions: [XxTiO3]", "Xx")
sub("zero_draws", "draws: 8", "draws: 0", "draws")
sub("missing_funnel", FUNNEL, "", "missing required key 'funnel'")
sub("empty_funnel", FUNNEL, "funnel: []\n", "no stages given")
sub("unknown_stage", "stage: single_point", "stage: singlepoint", "did you mean 'single_point'")
sub("stage_twice", "{stage: relax, cell", "{stage: single_point, cell", "appears twice")
sub("stage_order", FUNNEL[len("funnel:\n"):],
    "  - {stage: relax, cell: full, fmax: 0.05}\n  - {stage: single_point, keep: {top_k: 3}}\n", "must come before 'relax'")
sub("top_fraction_range", "top_k: 3", "top_fraction: 1.5", "must be in (0, 1], got 1.5")
sub("top_k_zero", "top_k: 3", "top_k: 0", "top_k: must be >= 1")
sub("keep_unknown_rule", "top_k: 3", "top_n: 3", "did you mean 'top_k'")
sub("keep_hull_rule_elsewhere", "top_k: 3", "max_e_above_hull_eV_per_atom: 0.1", "only the hull stage")
sub("relax_bad_cell", "cell: full", "cell: fully", "must be fixed, iso, aniso or full")
sub("relax_bad_fmax", "fmax: 0.05", "fmax: -1", "fmax: must be in")
sub("relax_fmax_string", "fmax: 0.05", "fmax: small", "fmax: must be a finite number")
sub("relax_unknown_key", "fmax: 0.05,", "fmax: 0.05, fmx: 1,", "fmx")
# a misspelt stage option alone (nothing else of that stage read) still gets a suggestion
sub("relax_misspelt_key", "fmax: 0.05,", "fmx: 0.05,", "funnel[1].fmx: unknown key (did you mean 'fmax'?)")
sub("single_point_misspelt_key", "{stage: single_point, keep", "{stage: single_point, volume_scn: {min: 0.9, max: 1.1, points: 3}, keep",
    "funnel[0].volume_scn: unknown key (did you mean 'volume_scan'?)")
sub("volume_scan_bad", "{stage: single_point, keep", "{stage: single_point, volume_scan: {min: 1.3, max: 0.9, points: 5}, keep", "volume factors")
sub("volume_scan_points", "{stage: single_point, keep", "{stage: single_point, volume_scan: {min: 0.9, max: 1.1, points: 0}, keep", "points: must be in 1..200")
sub("shortlist_size", "funnel:", "shortlist: {size: 0}\nfunnel:", "shortlist.size: must be >= 1")
sub("nan_value", "fmax: 0.05", "fmax: .nan", "fmax: must be a finite number")
# Found by tests/fuzz/fuzz_campaign: an empty key (here with an anchor) reached the prefilter
# as a key without text.
sub("null_key", "funnel:\n", "funnel:\n  - {stage: prefilter, rules: {&a : true}}\n", "empty or null mapping key")
PARTIAL = ("search:\n  - generator: partial_substitution\n    prototype: perovskite_cubic\n"
           "    sites: {A: La3+, B: Al3+, X: O2-}\n    supercell: [2, 2, 1]\n")
sub("partial_overlapping_substitutes", SEARCH,
    PARTIAL + "    substitute: [{label: B, ion: Ga3+, counts: 1}, {label: B, ion: Fe3+, counts: 1}]\n",
    "that substitution 1 already covers")
sub("partial_five_substitutes", SEARCH,
    PARTIAL + "    substitute: [" + ", ".join(["{label: A, ion: Sr2+, counts: 1}"] * 5) + "]\n",
    "give 1..4 substitutions")
sub("surrogate_hull_rule_without_hull", FUNNEL[len("funnel:\n"):],
    "  - {stage: single_point}\n  - {stage: surrogate, keep: {max_e_above_hull_eV_per_atom: 0.05}}\n"
    "  - {stage: relax, cell: full, fmax: 0.05}\n", "needs a hull stage")

lines = ["# expected outcome of `matscreen check` / `run` on each file: exit 1 and one message",
         "# containing the file name and the fragment after the tab", "# file\tfragment"]
for name, (text, expect) in sorted(cases.items()):
    fn = f"bad_campaign_{name}.yaml"
    with open(fn, "w", newline="") as fh:
        fh.write(text)
    lines.append(f"{fn}\t{expect}")
with open("campaigns.expected", "w") as fh:
    fh.write("\n".join(lines) + "\n")
print(len(cases), "files")
