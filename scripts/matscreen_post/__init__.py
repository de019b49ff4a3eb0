"""Post-processing of matscreen outputs (the HDF5 file of `matscreen run`, docs/output.md).

    from matscreen_post import Output, load_pymatgen
    with Output("perovskite-oxides.h5") as out:
        print(out.attrs["campaign"], len(out.candidates))
    structures = load_pymatgen("perovskite-oxides.h5", "survivors")   # {id: Structure}

Modules: reader (groups as numpy Tables with units), structures (pymatgen / ASE loaders for
survivors, the shortlist or a list of ids), hull (formation energies and chemical systems for
hull plots), cli (what the ms_*.py scripts share). Only numpy and h5py are needed to import
the package; matplotlib, pymatgen and ASE are imported by the functions that use them.
Put the scripts/ directory on PYTHONPATH to import it from elsewhere.
"""
from .reader import (Hull, MatscreenError, MissingGroup, Output, Table, open_output,
                     read_attributes, read_candidates, read_config, read_funnel, read_hull,
                     read_shortlist, read_structures, read_table, unit_of)
from .structures import (MissingStructure, load_ase, load_pymatgen, parse_species,
                         structure_rows, to_ase, to_pymatgen)

__all__ = [
    "Hull", "MatscreenError", "MissingGroup", "MissingStructure", "Output", "Table",
    "load_ase", "load_pymatgen", "open_output", "parse_species", "read_attributes",
    "read_candidates", "read_config", "read_funnel", "read_hull", "read_shortlist",
    "read_structures", "read_table", "structure_rows", "to_ase", "to_pymatgen", "unit_of",
]
