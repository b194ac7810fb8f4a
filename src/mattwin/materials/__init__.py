"""Identity and I/O of a material: pymatgen/ASE interop, fingerprints, file formats."""

from mattwin.materials.checks import check_physical, min_distance_ratio
from mattwin.materials.identity import canonical, from_atoms, material_id, to_atoms
from mattwin.materials.io import read_structure, write_structure

__all__ = [
    "canonical",
    "check_physical",
    "from_atoms",
    "material_id",
    "min_distance_ratio",
    "read_structure",
    "to_atoms",
    "write_structure",
]
