"""Build ``src/mattwin/data/references.json.gz``: the shipped library of competing phases.

Every entry comes from an offline source that ships inside an installed PyPI package, and records it:

* element ground states: the Delta test set (Lejaeghere et al., Science 351, aad3000 (2016)),
  WIEN2k-PBE equilibrium structures, via ``ase.collections.dcdft``, and for the elements it lacks
  (lanthanides Ce-Yb, Th, Ac, Ra, Fr, At) the measured room-temperature structures, each cited
  (:data:`EXPERIMENTAL_ELEMENTS`; Fr and At were never made in bulk: predicted structures, said so);
* experimentally known compounds from pymatgen's copy of the AFLOW Library of Crystallographic
  Prototypes (Mehl et al., Comput. Mater. Sci. 136 (2017) S1), as given or with elements substituted
  into the prototype of the compound's real structure type (the cell is then scaled isotropically by
  the ratio of Shannon ionic radii, or of Cordero covalent radii for pnictides);
* Materials Project structures shipped with pymatgen (``pymatgen/util/structures``).

Each structure is made canonical (right-handed lattice, ``mattwin.materials.canonical``), reduced to its
primitive cell where that has fewer atoms, and checked: ordered, at most 64 atoms, ``check_physical``.
Lengths are in Å. Run from the repository root: ``python scripts/build_references.py``.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.resources
import json
import re
import unicodedata
import warnings
from pathlib import Path

import numpy as np
from ase.collections import dcdft
from ase.data import atomic_numbers, covalent_radii
from pymatgen.core import Element, Structure
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from mattwin.materials import canonical, check_physical

MAX_ATOMS = 64
OUT = Path(__file__).resolve().parents[1] / "src" / "mattwin" / "data" / "references.json.gz"
DELTA = "Delta test set (Lejaeghere et al., Science 2016) via ase.collections.dcdft"
MOLECULAR = "molecular crystal"

# ---------------------------------------------------------------------------------------------------
# AFLOW prototypes, keyed "<aflow label>:<reduced formula>". Multi-element prototypes are included
# unless listed here; element prototypes only when listed in AFLOW_ELEMENTS.
AFLOW_EXCLUDE = {
    "AB11CD3_cP16_221_a_dg_b_c:CrFe11Ni3Mo": "ordered model of a disordered steel",
    "AB18C8_cF108_225_a_eh_f:Cr(Fe9Ni4)2": "ordered model of a disordered steel",
    "AB27CD3_cP32_221_a_dij_b_c:CrFe27Ni3Mo": "ordered model of a disordered steel",
    "A9B16C7_cF128_225_acd_2f_be:Cr9Fe16Ni7": "ordered model of a disordered steel",
    "AB4C3_cI16_229_a_c_b:CrFe4Ni3": "ordered model of a disordered steel",
    "AB12C3_cI32_229_a_h_b:Cr(Fe4Ni)3": "ordered model of a disordered steel",
    "sigma_tP30_136_bf2ij:Cr4Fe4Ni4PdRh2": "sigma phase with dummy decoration of Wyckoff sites",
    "AB32C48_cI162_204_a_2efg_2gh:Mg32AlZn48": "more than 64 atoms; ordered model of a disordered phase",
    "AB3C6_cI80_206_a_d_e:Mn3FeO6": "ordered model of disordered bixbyite (Mn,Fe)2O3",
    "A3BC_tP5_99_bc_a_b:ZrPbO3": "ordered model of the PZT solid solution",
    "A3BC_mC10_8_ab_a_a:ZrPbO3": "ordered model of the PZT solid solution",
    "AB_oI4_44_a_b:GaAs": "high-pressure phase",
    "A3B_cI8_229_b_a:H3S": "high-pressure phase (~150 GPa)",
    "AB_oP2_25_b_a:CdTe": "high-pressure phase",
    "AB_cP16_205_c_c:CuCl": "high-pressure phase",
    "AB_oP8_57_d_d:TlF": "TlF-II, non-ambient phase",
    "AB_tP8_136_g_f:BeO": "high-temperature phase",
    "A2B_oC24_20_abc_c:SiO2": "high-temperature tridymite",
    "A2B_hP12_194_cg_f:SiO2": "high-temperature tridymite",
    "A2B_hP9_180_j_c:SiO2": "high-temperature beta-quartz",
    "A2B_cF24_227_c_a:SiO2": "idealised high-temperature beta-cristobalite",
    "A2B_mC144_9_24a_12a:SiO2": "more than 64 atoms",
    "A2B_tP36_96_3b_ab:SiO2": "synthetic metastable keatite, not needed for hulls",
    "A2B_mP12_3_bc3e_2e:SiO2": "hypothetical/unassigned SiO2 framework",
    "A2B_hP9_152_c_a:SiO2": "duplicate of the Materials Project alpha-quartz",
    "AB_cP2_221_b_a:CsCl": "duplicate of the Materials Project CsCl",
    "AB3C_cP5_221_a_c_b:CaTiO3": "cubic CaTiO3 exists only above ~1600 K; orthorhombic form included",
    "A2B_hP9_150_ef_bd:Fe2P": "older P321 description; P-62m Fe2P included",
    "AB_hP4_186_b_a:BN": "obsolete B12 description of BN; h-BN (P6_3/mmc) included",
    "AB_hR6_160_3a_3a:SiC": "rare 9R polytype",
    "AB_hP12_194_af_bf:MoC": "uncertain structure assignment",
    "A5B2_hR7_166_a2c_c:B5Mo2": "stoichiometry revised in the literature (MoB2)",
    "A5B2_hP14_194_abdf_f:B5W2": "stoichiometry revised in the literature",
    "AB4_cP5_215_a_e:Fe4C": "doubtful phase",
    "AB2_oP6_58_a_g:Fe2C": "metastable carbide with uncertain structure",
    "A4B3_cI14_229_c_b:Pt3O4": "doubtful phase",
    "AB3C4_cP8_215_a_c_e:Cu3AsS4": "idealised model",
    "A2B_hP6_191_h_e:Cu2Te": "idealised model of a complex superstructure",
    "AB3_oC8_65_a_bf:CdPt3": "unconfirmed phase",
    "A2B_hP9_147_g_ad:ZnAg2": "ordered model of a disordered phase",
    "ABC2_tP4_123_d_a_f:CaCuO2": "infinite-layer CaCuO2 needs Sr or high pressure to form",
    "AB4C_hP6_191_a_h_b:MgAlB4": "uncertain phase",
    "AB3_hP8_182_c_g:Fe3C": "hypothetical carbide ('upper bainite')",
    "AB2_aP12_1_4a_8a:FeS2": "P1 description of pyrite (duplicate)",
    "AB_tP4_131_c_e:PtS": "broken in pymatgen's copy: twice the experimental volume (Pt-S 2.89 Å)",
    "AB_hR2_166_a_b:CuPt": "broken in pymatgen's copy: volume ~1.5x too large (CHGNet E(V) minimum 0.68 V)",
    "A3B_cI32_204_g_c:CoAs3": "broken in pymatgen's copy: a = 7.58 Å vs 8.20 Å experimental",
    "A7B_cF32_225_bd_a:Ca7Ge": "volume doubtful in pymatgen's copy (CHGNet E(V) minimum above 1.45 V)",
    # Wrong coordinates in pymatgen's copy: overlapping atoms, or (--validate) CHGNet max force > 5 eV/Å
    # and/or a CHGNet relaxation that leaves the structure type or changes the volume by > 15 %.
    "AB_mP4_11_e_e:TiNi": "broken in pymatgen's copy: Ti-Ni 1.45 Å",
    "ABC_cP12_198_a_a_a:NiSbS": "broken in pymatgen's copy: Ni-Sb 1.03 Å",
    "AB2_hP24_194_ef_fgh:MgNi2": "broken in pymatgen's copy: Mg-Mg 1.46 Å, max force 55 eV/Å",
    "ABC_oP6_59_a_a_a:CNCl": "broken in pymatgen's copy: N-Cl 1.16 Å, max force 61 eV/Å",
    "AB2_oF72_43_ab_3b:GeS2": "broken in pymatgen's copy: S-S 1.28 Å, relaxes out of the type (+32 % volume)",
    "A2B_oP24_61_2c_c:TiO2": "broken in pymatgen's copy: brookite at 64 % of its volume, Ti-O 1.55 Å",
    "AB_oP8_62_c_c:FeB": "broken in pymatgen's copy: Fe-B 1.67 Å, relaxation leaves the type",
    "A2B_oP12_19_2a_a:Ag2Se": "broken in pymatgen's copy: Ag-Se 2.07 Å, max force 8 eV/Å",
    "AB11_cP36_221_c_agij:BaHg11": "broken in pymatgen's copy: Hg-Hg 2.21 Å, max force 7 eV/Å",
    "AB_mC8_15_c_e:CuO": "broken in pymatgen's copy: Cu-O 1.67 Å, relaxation changes the space group",
    "A2B_hP18_180_fi_bd:Mg2Ni": "broken in pymatgen's copy: Mg-Mg 2.05 Å, max force 5.4 eV/Å",
    "AB4C_tI12_82_c_g_a:BPO4": "broken in pymatgen's copy: P-O 1.72 Å, max force 5.1 eV/Å",
    "A2B_mC48_15_ae3f_2f:SiO2": "broken in pymatgen's copy: coesite relaxation leaves the type",
    "A2B_tI12_141_e_a:TiO2": "broken in pymatgen's copy: anatase relaxation leaves the type",
}
AFLOW_ELEMENTS = {  # elements not in the Delta set, or whose Delta structure is a simplified model
    "A_oF128_70_4h:S": ("S alpha (S8 rings)", "experimental ground state of sulfur"),
    "A_cI58_217_ac2g:Mn": ("Mn alpha (cI58)", "experimental ground state of manganese"),
    "A_hP4_194_ac:La": ("La alpha (dhcp)", ""),
    "A_hR3_166_ac:Sm": ("Sm alpha (Sm-type)", ""),
    "A_oC4_63_c:U": ("U alpha", ""),
    "A_oP8_62_2c:Np": ("Np alpha", ""),
    "A_mP16_11_8e:Pu": ("Pu alpha", ""),
    "A_tI2_139_a:Pa": ("Pa (bct)", ""),
}
AFLOW_NAMES = {
    "AB_cF8_216_c_a:ZnS": "ZnS zincblende",
    "A2B3_hR10_167_c_e:Al2O3": "Al2O3 corundum",
    "AB2_cF12_225_a_c:CaF2": "CaF2 fluorite",
    "A2B_tP6_136_f_a:TiO2": "TiO2 rutile",
    "ABC6D2_mC40_15_e_e_3f_f:CaFe(SiO3)2": "CaFeSi2O6 clinopyroxene",
    "ABCD_oP16_57_d_c_d_d:KCSN": "KSCN",
    "A2B_aP6_2_2i_i:PI2": "P2I4",
    "AB_hR16_148_cf_cf:HC": "C8H8 cubane",
    "AB2C4_tI14_139_a_e_ce:La2CuO4": "La2CuO4 tetragonal (K2NiF4 type)",
    "A7B6_hR13_166_ah_3c:Fe7W6": "Fe7W6 mu phase",
    "AB2_hP3_191_a_d:AlB2": "AlB2 (C32 type)",
    "AB2_hP3_164_a_d:CdI2": "CdI2 (C6 type)",
    "AB_cF8_225_a_b:NaCl": "NaCl rock salt",
    "AB3C_hR10_148_c_f_c:TiFeO3": "FeTiO3 ilmenite",
    "ABC3_hR10_161_a_a_b:LiNbO3": "LiNbO3 ferroelectric (R3c)",
    "ABC3_hR10_167_a_b_e:LiNbO3": "LiNbO3 paraelectric (R-3c)",
}
AFLOW_NOTES = {
    "A2B_tP12_92_b_a:SiO2": "metastable SiO2 polymorph (alpha-quartz is stable at ambient conditions)",
    "AB2_oP6_58_a_g:FeS2": "metastable FeS2 polymorph (pyrite is the stable form)",
    "ABC3_hR10_167_a_b_e:LiNbO3": "paraelectric high-temperature form; ferroelectric R3c is stable at 300 K",
    "AB2C4_tI14_139_a_e_ce:La2CuO4": "high-temperature tetragonal form; orthorhombic (Cmce) below ~530 K",
    "A3B_hP24_151_3c_2a:CrCl3": "high-temperature form; rhombohedral (R-3, BiI3 type) below ~240 K",
    "AB2_oP24_28_acd_2c3d:Te2Au": "AuTe2 polymorph (krennerite); calaverite is listed separately",
    "A3B2_oP20_56_ce_e:Sb2O3": "valentinite, metastable at 300 K vs cubic senarmontite (not in the sources)",
    "AB_hP8_186_ab_ab:SiC": "SiC polytype (4H); polytypes are nearly degenerate",
    "AB_hP12_186_a2b_a2b:SiC": "SiC polytype (6H); polytypes are nearly degenerate",
    "AB3_oP16_18_ab_3c:BaS3": "one of two BaS3 polymorphs",
    "AB3_tP8_113_a_ce:BaS3": "one of two BaS3 polymorphs",
    "AB_mP4_11_e_e:TiNi": "B19' martensite of NiTi; the B2 form is stable at high temperature",
    "AB3_hR8_155_c_de:AlF3": "old R32 (D0_14) description; relaxes to the R-3c structure of alpha-AlF3",
    "AB3_cF16_225_a_bc:BiF3": "cubic BiF3; an orthorhombic polymorph also exists",
    "ABC6D2_mC40_15_e_e_3f_f:CaFe(SiO3)2": "esseneite-type C2/c clinopyroxene, hedenbergite composition",
    "AB2_cF48_227_c_e:Ti2C": "vacancy-ordered form of substoichiometric TiC",
}
for _key in (
    "AB_cP8_198_a_a:CO",
    "A3B_cP16_198_b_a:H3N",
    "A4B_cI10_217_c_a:SiF4",
    "A2B_aP6_2_2i_i:PI2",
    "AB_hR16_148_cf_cf:HC",
):
    AFLOW_NOTES[_key] = MOLECULAR

DELTA_NOTES = {
    "S": "simple-cubic Delta-test model, not the real crystal; alpha-S (S8 rings) is listed separately",
    "Mn": "simplified AFM fcc-like Delta-test model; alpha-Mn (cI58) is listed separately",
}
for _el in ("H", "N", "O", "F", "Cl", "Br", "I"):
    DELTA_NOTES[_el] = f"{MOLECULAR} ({_el}2)"

# Materials Project structures shipped with pymatgen: file -> (name, note); elements come from dcdft.
MP_FILES = {
    "LiFePO4.json": ("LiFePO4 olivine (triphylite)", ""),
    "NaFePO4.json": ("NaFePO4 olivine", "olivine-type NaFePO4 is metastable; maricite is the stable form"),
    "Li2O.json": ("Li2O antifluorite", ""),
    "Li2O2.json": ("Li2O2 peroxide", ""),
    "Li3V2(PO4)3.json": (
        "Li3V2(PO4)3 monoclinic",
        "monoclinic Fe2(SO4)3-type framework; P2_1/n experimentally, C2 in this Materials Project cell",
    ),
    "SiO2.json": ("SiO2 alpha-quartz", ""),
    "TiO2.json": ("TiO2(B) bronze", "metastable TiO2 polymorph (rutile is the stable form)"),
    "SrTiO3.json": ("SrTiO3 cubic perovskite", ""),
    "CsCl.json": ("CsCl B2", ""),
    "K2O2.json": ("K2O2 peroxide", ""),
    "VO2.json": (
        "VO2 rutile-type",
        "high-temperature form (above ~340 K); monoclinic M1 VO2 is stable at 300 K",
    ),
    "BaNiO3.json": ("BaNiO3 hexagonal", ""),
    "La2CoO4F.json": ("La2CoO4F", ""),
}

# Substitutions into prototypes: (name, source key, {old: new}, {old: (old ox, new ox)}, note).
# Oxidation states are keyed by the OLD element (the site) and only serve the radius scaling.
ROCK_SALT, FLUORITE = "AB_cF8_225_a_b:NaCl", "AB2_cF12_225_a_c:CaF2"
MO_ON_NACL = {"Na": (1, 2), "Cl": (-1, -2)}  # M2+ O2- on Na+ Cl-
AX_ON_NACL = {"Na": (1, 1), "Cl": (-1, -1)}
A2X_ON_CAF2 = {"Ca": (2, -2), "F": (-1, 1)}  # antifluorite: anion on the Ca site, cation on the F site
SUBSTITUTIONS: list[tuple[str, str, dict[str, str], dict[str, tuple[float, float]], str]] = [
    ("FeO rock salt (wustite)", ROCK_SALT, {"Na": "Fe", "Cl": "O"}, MO_ON_NACL,
     "idealised stoichiometric wustite (real FeO is Fe-deficient)"),
    ("MgO rock salt (periclase)", ROCK_SALT, {"Na": "Mg", "Cl": "O"}, MO_ON_NACL, ""),
    ("CaO rock salt (lime)", ROCK_SALT, {"Na": "Ca", "Cl": "O"}, MO_ON_NACL, ""),
    ("MnO rock salt", ROCK_SALT, {"Na": "Mn", "Cl": "O"}, MO_ON_NACL, ""),
    ("NiO rock salt", ROCK_SALT, {"Na": "Ni", "Cl": "O"}, MO_ON_NACL, ""),
    ("LiCl rock salt", ROCK_SALT, {"Na": "Li"}, AX_ON_NACL, ""),
    ("LiF rock salt", ROCK_SALT, {"Na": "Li", "Cl": "F"}, AX_ON_NACL, ""),
    ("NaF rock salt", ROCK_SALT, {"Cl": "F"}, AX_ON_NACL, ""),
    ("KCl rock salt (sylvite)", ROCK_SALT, {"Na": "K"}, AX_ON_NACL, ""),
    ("Fe2O3 corundum (hematite)", "A2B3_hR10_167_c_e:Al2O3", {"Al": "Fe"}, {"Al": (3, 3), "O": (-2, -2)}, ""),
    ("Fe3O4 spinel (magnetite)", "A2BC4_cF56_227_d_a_e:MgAl2O4", {"Mg": "Fe", "Al": "Fe"},
     {"Mg": (2, 2), "Al": (3, 3), "O": (-2, -2)},
     "all cation sites Fe; the inverse Fe2+/Fe3+ distribution of magnetite is not represented"),
    ("Na2O antifluorite", FLUORITE, {"Ca": "O", "F": "Na"}, A2X_ON_CAF2, ""),
    ("Li2S antifluorite", FLUORITE, {"Ca": "S", "F": "Li"}, A2X_ON_CAF2, ""),
    ("Na2S antifluorite", FLUORITE, {"Ca": "S", "F": "Na"}, A2X_ON_CAF2, ""),
    ("ZnO wurtzite (zincite)", "AB_hP4_186_b_b:ZnS", {"S": "O"}, {"Zn": (2, 2), "S": (-2, -2)}, ""),
    ("LiFeO2 layered (alpha-NaFeO2 type)", "ABC2_hR4_166_a_b_c:NaCrS2", {"Na": "Li", "Cr": "Fe", "S": "O"},
     {"Na": (1, 1), "Cr": (3, 3), "S": (-2, -2)},
     "metastable layered polymorph (made by ion exchange); stable LiFeO2 is a rock-salt derivative"),
    ("FeP MnP type", "AB_oP8_62_c_c:MnP", {"Mn": "Fe"}, {"Mn": (3, 3), "P": (-3, -3)}, ""),
    ("FeP2 marcasite type", "AB2_oP6_58_a_g:FeS2", {"S": "P"}, {"Fe": (2, 4), "S": (-1, -2)}, ""),
    ("Li3P Na3As type", "AB3_hP8_194_c_bf:Na3As", {"Na": "Li", "As": "P"},
     {"Na": (1, 1), "As": (-3, -3)}, ""),
]  # fmt: skip

_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


def _shannon(symbol: str, ox: float, cn: int) -> float | None:
    """Shannon ionic radius (Å) at the tabulated coordination nearest ``cn``; high spin where it matters."""
    if ox != int(ox):
        return None
    table = Element(symbol).data.get("Shannon radii", {}).get(str(int(ox)))
    if not table:
        return None
    cns = [c for c in table if c in _ROMAN]
    if not cns:
        return None
    best = min(cns, key=lambda c: abs(_ROMAN.index(c) + 1 - cn))
    spins = table[best]
    entry = spins.get("High Spin") or spins.get("") or next(iter(spins.values()))
    return float(entry["ionic_radius"])


def _covalent(symbol: str) -> float:
    return float(covalent_radii[atomic_numbers[symbol]])


def substitute(
    proto: Structure, sub: dict[str, str], ox: dict[str, tuple[float, float]]
) -> tuple[Structure, float]:
    """Substituted copy of ``proto`` and the linear scale factor (dimensionless) applied to its lattice.

    For each cation site whose species or nearest anion changes, with its first shell of anions
    (within 1.2 x the shortest cation-anion distance, Å): where Shannon ionic radii are tabulated for
    the new pair (oxides, sulfides, halides), the target is the mean shell distance becoming the sum of
    the radii at the coordination numbers found; otherwise (pnictides) the shell is scaled by the ratio
    of the sums of Cordero covalent radii, new over old. The factor is the mean over those sites.
    """
    ratios = []
    for site in proto:
        old = site.specie.symbol
        if ox[old][0] <= 0:
            continue
        cand = [n for n in proto.get_neighbors(site, 4.5) if ox[n.specie.symbol][0] < 0]
        dmin = min(n.nn_distance for n in cand)
        shell = [n for n in cand if n.nn_distance < 1.2 * dmin]
        anion = min(shell, key=lambda n: n.nn_distance)
        an_old = anion.specie.symbol
        cn_an = sum(1 for n in proto.get_neighbors(anion, 1.2 * dmin) if ox[n.specie.symbol][0] > 0)
        new, an_new = sub.get(old, old), sub.get(an_old, an_old)
        if new == old and an_new == an_old:
            continue
        r_cat, r_an = _shannon(new, ox[old][1], len(shell)), _shannon(an_new, ox[an_old][1], cn_an)
        if r_cat is not None and r_an is not None:
            ratios.append((r_cat + r_an) / float(np.mean([n.nn_distance for n in shell])))
        else:
            ratios.append((_covalent(new) + _covalent(an_new)) / (_covalent(old) + _covalent(an_old)))
    factor = float(np.mean(ratios))
    out = proto.copy()
    out.replace_species({Element(k): Element(v) for k, v in sub.items()})
    out.scale_lattice(out.volume * factor**3)
    return out, factor


_ACCENTS = {'"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "v": "\u030c"}


def _detex(text: str) -> str:
    """Plain Unicode for the BibTeX accents of the AFLOW references (f\\"{u}r -> für)."""
    text = re.sub(r"\{?\\aa\}?", "å", text).replace("\\ae", "æ").replace("\\o", "ø")
    text = re.sub(r"\\([\"'`^~v])\{?(\w)\}?", lambda m: m.group(2) + _ACCENTS[m.group(1)], text)
    return unicodedata.normalize("NFC", text.replace("{", "").replace("}", ""))


def _experimental_ref(about: dict) -> str:
    """'Author et al., Journal vol (year)' of the first non-AFLOW reference in an SNL 'about' block."""
    for block in re.split(r"\n@", about.get("references", "")):
        if "Mehl2017" in block or "Hicks" in block and "Prototypes" in block:
            continue
        fields = dict(re.findall(r'(\w+)\s*=\s*["{]\s*(.*?)\s*["}],?\n', block))
        if "author" in fields and "year" in fields:
            first = fields["author"].split(" and ")[0].strip()
            surname = first.split(",")[0] if "," in first else first.split()[-1]
            journal = " ".join(f"{fields.get('journal', '')} {fields.get('volume', '')}".split())
            return _detex(f"{surname} et al., {journal} ({fields['year']})".replace(" ()", ""))
    return ""


def _primitive(s: Structure) -> Structure:
    p = s.get_primitive_structure(tolerance=0.05)
    return p if len(p) < len(s) else s


def _entry(name: str, s: Structure, source: str, note: str = "", relax_cell: bool = True) -> dict:
    s = s.copy()
    s.remove_oxidation_states()
    s = canonical(s)
    if len(s) > MAX_ATOMS:
        raise ValueError(f"{name}: {len(s)} atoms > {MAX_ATOMS}")
    check_physical(s, name)
    assert np.linalg.det(s.lattice.matrix) > 0, name
    return {
        "name": name,
        "formula": s.composition.reduced_formula,
        "structure": s.as_dict(),
        "source": source,
        "relax_cell": relax_cell,
        "polymorph_note": note,
    }


def delta_entries() -> list[dict]:
    """Element ground states of the Delta test (initial magnetic moments kept as site property 'magmom')."""
    out = []
    for el in dcdft.names:
        atoms = dcdft[el]
        s = AseAtomsAdaptor.get_structure(atoms)
        magmoms = atoms.get_initial_magnetic_moments()
        if "magmom" in s.site_properties:
            s.remove_site_property("magmom")
        if np.any(np.abs(magmoms) > 0):
            s.add_site_property("magmom", [float(m) for m in magmoms])
        sg = SpacegroupAnalyzer(s, symprec=0.1).get_space_group_symbol()
        out.append(_entry(f"{el} ({sg})", s, DELTA, DELTA_NOTES.get(el, "")))
    return out


#: element ground states missing from the Delta set (lanthanides, actinides, Ra, Fr, At): structure type,
#: room-temperature lattice parameters (Å) and the measurement, or for Fr and At (never made in bulk)
#: the predicted structure, said so in the note. Every one is a starting point relaxed by each engine.
SPEDDING = "Spedding, Daane & Herrmann, Acta Cryst. 9, 559 (1956)"
EXPERIMENTAL_ELEMENTS: dict[str, tuple[str, tuple[float, ...], str, str]] = {
    "Ce": ("fcc", (5.1610,), f"gamma-Ce, {SPEDDING}", ""),
    "Pr": ("dhcp", (3.6721, 11.8326), SPEDDING, ""),
    "Nd": ("dhcp", (3.6582, 11.7966), SPEDDING, ""),
    "Pm": ("dhcp", (3.65, 11.65), "Pallmer & Chikalla, J. Less-Common Met. 24, 233 (1971)", ""),
    "Eu": ("bcc", (4.5827,), SPEDDING, ""),
    "Gd": ("hcp", (3.6336, 5.7810), SPEDDING, ""),
    "Tb": ("hcp", (3.6055, 5.6966), SPEDDING, ""),
    "Dy": ("hcp", (3.5915, 5.6501), SPEDDING, ""),
    "Ho": ("hcp", (3.5778, 5.6178), SPEDDING, ""),
    "Er": ("hcp", (3.5592, 5.5850), SPEDDING, ""),
    "Tm": ("hcp", (3.5375, 5.5540), SPEDDING, ""),
    "Yb": ("fcc", (5.4847,), SPEDDING, ""),
    "Th": ("fcc", (5.0842,), "Donohue, The Structures of the Elements (Wiley, 1974)", ""),
    "Ac": ("fcc", (5.311,), "Farr, Giorgi, Bowman & Coffinberry, J. Inorg. Nucl. Chem. 18, 42 (1961)", ""),
    "Ra": ("bcc", (5.148,), "Weigel & Trinkl, Radiochim. Acta 10, 78 (1968)", ""),
    "Fr": (
        "bcc",
        (6.3,),
        "no measured structure: bcc like every alkali metal at ambient conditions (a estimated from Cs)",
        "predicted structure, never measured (Fr cannot be made in bulk)",
    ),
    "At": (
        "fcc",
        (5.3,),
        "no measured structure: metallic fcc predicted by Hermann, Hoffmann & Ashcroft, "
        "PRL 111, 116404 (2013)",
        "predicted structure, never measured (At cannot be made in bulk)",
    ),
}


def _element_structure(el: str, kind: str, lat: tuple[float, ...]) -> Structure:
    from pymatgen.core import Lattice

    if kind == "fcc":
        return Structure.from_spacegroup("Fm-3m", Lattice.cubic(lat[0]), [el], [[0, 0, 0]])
    if kind == "bcc":
        return Structure.from_spacegroup("Im-3m", Lattice.cubic(lat[0]), [el], [[0, 0, 0]])
    hexagonal = Lattice.hexagonal(lat[0], lat[1])
    if kind == "hcp":  # Mg type, 2c
        return Structure.from_spacegroup("P6_3/mmc", hexagonal, [el], [[1 / 3, 2 / 3, 1 / 4]])
    # dhcp (alpha-La type, ABAC stacking): 2a + 2c
    return Structure.from_spacegroup("P6_3/mmc", hexagonal, [el, el], [[0, 0, 0], [1 / 3, 2 / 3, 1 / 4]])


def experimental_element_entries() -> list[dict]:
    """Ground states of the elements the Delta set lacks (see :data:`EXPERIMENTAL_ELEMENTS`)."""
    out = []
    for el, (kind, lat, source, note) in EXPERIMENTAL_ELEMENTS.items():
        s = _primitive(_element_structure(el, kind, lat))
        out.append(_entry(f"{el} ({kind})", s, source, note))
    return out


def aflow_prototypes() -> dict[str, tuple[Structure, dict]]:
    """``{"<label>:<formula>": (structure, tags + reference)}`` for the 288 pymatgen AFLOW prototypes."""
    path = importlib.resources.files("pymatgen.analysis.prototypes") / "aflow_prototypes.json.gz"
    with gzip.open(str(path), "rt") as fh:
        raw = json.load(fh)
    out: dict[str, tuple[Structure, dict]] = {}
    for item in raw:
        s = Structure.from_dict(item["snl"])
        key = f"{item['tags']['aflow']}:{s.composition.reduced_formula}"
        out[key] = (s, {**item["tags"], "exp_ref": _experimental_ref(item["snl"].get("about", {}))})
    return out


def aflow_source(key: str, tags: dict, extra: str = "") -> str:
    mineral = _detex(tags.get("mineral") or "").replace("$\\mu$", "μ")
    mineral = f" ({mineral})" if mineral else ""
    exp = f"; structure from {tags['exp_ref']}" if tags.get("exp_ref") else ""
    src = f"AFLOW prototype {key.split(':')[0]}{mineral}, Mehl et al. Comput. Mater. Sci. 136 (2017) S1{exp}"
    return f"{src}; {extra}" if extra else src


def _aflow_name(key: str, s: Structure, tags: dict) -> str:
    if key in AFLOW_NAMES:
        return AFLOW_NAMES[key]
    formula = s.composition.reduced_formula
    mineral = tags.get("mineral") or ""
    return f"{formula} {mineral.split(',')[0]}" if mineral else f"{formula} {tags['pearson']}"


def aflow_entries(protos: dict[str, tuple[Structure, dict]]) -> list[dict]:
    out = []
    for key, (s, tags) in protos.items():
        if key in AFLOW_EXCLUDE:
            continue
        if len(s.composition.elements) == 1:
            if key not in AFLOW_ELEMENTS:
                continue
            name, note = AFLOW_ELEMENTS[key]
        else:
            name, note = _aflow_name(key, s, tags), AFLOW_NOTES.get(key, "")
        out.append(_entry(name, _primitive(s), aflow_source(key, tags), note))
    return out


def _mp_dir() -> Path:
    return Path(str(importlib.resources.files("pymatgen.util") / "structures"))


def _mp(fname: str) -> Structure:
    """A structure file of pymatgen/util/structures, without oxidation states and magnetic moments."""
    s = Structure.from_file(_mp_dir() / fname)
    s.remove_oxidation_states()
    if "magmom" in s.site_properties:
        s.remove_site_property("magmom")
    return s


def mp_source(fname: str, extra: str = "") -> str:
    src = f"Materials Project structure shipped with pymatgen (pymatgen/util/structures/{fname})"
    return f"{src}; {extra}" if extra else src


def mp_entries() -> list[dict]:
    out = []
    for fname, (name, note) in MP_FILES.items():
        s = _mp(fname)
        out.append(_entry(name, _primitive(s), mp_source(fname), note))
    return out


def derived_entries(protos: dict[str, tuple[Structure, dict]]) -> list[dict]:
    """Compounds built from the sources by substitution, removal or ordering."""
    out = []
    for name, key, sub, ox, note in SUBSTITUTIONS:
        proto, tags = protos[key]
        s, f = substitute(_primitive(proto), sub, ox)
        what = ", ".join(f"{v} for {k}" for k, v in sub.items())
        extra = f"elements substituted ({what}), lattice scaled x{f:.3f} to Shannon/covalent radii"
        out.append(_entry(name, _primitive(s), aflow_source(key, tags, extra), note))

    fp = _mp("LiFePO4.json")
    fp.remove_species(["Li"])
    out.append(
        _entry(
            "FePO4 heterosite",
            fp,
            mp_source("LiFePO4.json", "Li removed (heterosite, delithiated olivine), cell of LiFePO4"),
            "metastable FePO4 polymorph; the stable form is trigonal (berlinite/quartz type)",
        )
    )

    out.append(_berlinite_fepo4(protos))
    out.extend(_li3po4())

    lvp = _mp("Li3V2(PO4)3.json")
    lvp.replace_species({Element("V"): Element("Fe")})
    out.append(
        _entry(
            "Li3Fe2(PO4)3 monoclinic",
            lvp,
            mp_source("Li3V2(PO4)3.json", "Fe substituted for V (Fe3+ and V3+ radii differ by <1%)"),
            "monoclinic Fe2(SO4)3-type framework (P2_1/n experimentally, C2 in this cell); "
            "a rhombohedral NASICON form is made by ion exchange",
        )
    )

    out.append(
        _entry(
            "Li10GeP2S12 (LGPS)",
            _ordered_lgps(),
            mp_source(
                "Li10GeP2S12.json",
                "partial occupancies ordered by lowest Ewald energy "
                "(pymatgen OrderDisorderedStructureTransformation)",
            ),
            "the experimental structure has partially occupied Li sites and mixed Ge/P sites; "
            "one ordering chosen",
        )
    )
    return out


#: trigonal FePO4 (rodolicoite, berlinite/α-quartz type, P3_121): the measured cell of Long et al.,
#: Inorg. Chem. 22, 3012 (1983), neutron powder diffraction at room temperature (ICSD 38062)
FEPO4_CELL = (5.036, 11.255)


def _berlinite_fepo4(protos: dict[str, tuple[Structure, dict]]) -> dict:
    """The stable FePO4 polymorph: α-quartz (AFLOW A2B_hP9_152_c_a) doubled along c with Fe and P
    alternating on the Si sites (the berlinite ordering: every O bridges one Fe and one P), in the
    measured cell of Long et al. 1983. The O positions are quartz's, not the refined FePO4 ones
    (Fe-O 1.85 Å against Si-O 1.61 Å), so the cell carries large forces until it is relaxed, as every
    campaign relaxes its references; relaxed with CHGNet it keeps its tetrahedral Fe and the
    P3_121/P3_221 symmetry (the two hands are the same structure)."""
    key = "A2B_hP9_152_c_a:SiO2"
    quartz, tags = protos[key]
    s = quartz.copy()
    s.make_supercell([1, 1, 2])
    species = []
    for site in s:
        if site.specie.symbol == "Si":
            species.append("Fe" if int(round((site.frac_coords[2] % 1) * 6)) % 2 == 0 else "P")
        else:
            species.append("O")
    from pymatgen.core import Lattice

    fp = Structure(Lattice.hexagonal(*FEPO4_CELL), species, s.frac_coords)
    return _entry(
        "FePO4 berlinite-type (rodolicoite)",
        fp,
        aflow_source(
            key,
            tags,
            "c doubled with Fe and P ordered on the Si sites (berlinite type); cell a = 5.036, "
            "c = 11.255 Å of Long et al., Inorg. Chem. 22, 3012 (1983)",
        ),
        "the stable FePO4 polymorph (trigonal, P3_121); O positions from quartz, not refined",
    )


#: Li3PO4 polymorphs, measured structures (AMCSD 0013843 and 0012673): (name, space-group operations
#: of the published setting, orthorhombic cell a, b, c in Å, asymmetric unit, citation, note)
LI3PO4 = (
    (
        "Li3PO4 gamma (Pnma)",
        (
            "x,y,z",
            "1/2-x,y,z",
            "1/2+x,-y,-z",
            "1/2+x,1/2-y,1/2+z",
            "1/2-x,1/2+y,1/2-z",
            "x,1/2+y,1/2-z",
            "-x,1/2-y,1/2+z",
            "-x,-y,-z",
        ),
        (6.1113, 10.4612, 4.9208),
        (
            ("Li", (0.5016, 0.1627, 0.3008)),
            ("Li", (0.75, 0.4246, 0.2045)),
            ("P", (0.25, 0.4115, 0.3079)),
            ("O", (0.0441, 0.3418, 0.2054)),
            ("O", (0.25, 0.0503, 0.2928)),
            ("O", (0.75, 0.0896, 0.1223)),
        ),
        "measured structure: Wang, Chakoumakos, Sales, Kwak & Bates, J. Solid State Chem. 115, 313 "
        "(1995), neutron powder diffraction (Pmnb setting of Pnma), via AMCSD 0013843",
        "the quenchable high-temperature form (Li2CdSiO4 type); the ground state is beta (Pmn2_1)",
    ),
    (
        "Li3PO4 beta (Pmn2_1)",
        ("x,y,z", "1/2+x,-y,1/2+z", "-x,y,z", "1/2-x,-y,1/2+z"),
        (6.115, 5.2394, 4.8554),
        (
            ("Li", (0.2481, 0.3277, 0.9860)),
            ("Li", (0.5, 0.8428, 0.9893)),
            ("P", (0.0, 0.8243, 0.0)),
            ("O", (0.20777, 0.68676, 0.8961)),
            ("O", (0.0, 0.1052, 0.9004)),
            ("O", (0.5, 0.1814, 0.8172)),
        ),
        "measured structure: Keffer, Mighell, Mauer, Swanson & Block, Inorg. Chem. 6, 119 (1967), "
        "single-crystal X-ray diffraction, via AMCSD 0012673",
        "the low-temperature form, stable up to about 500 °C (transforms irreversibly to gamma)",
    ),
)


def _from_asymmetric_unit(
    ops: tuple[str, ...], cell: tuple[float, float, float], sites: tuple[tuple[str, tuple[float, ...]], ...]
) -> Structure:
    """The full cell from a published asymmetric unit and the setting's symmetry operations."""
    from pymatgen.core import Lattice
    from pymatgen.core.operations import SymmOp

    species: list[str] = []
    coords: list[np.ndarray] = []
    for el, xyz in sites:
        for op in ops:
            c = np.mod(SymmOp.from_xyz_str(op).operate(xyz), 1.0)
            if not any(
                e == el and np.allclose((c - o + 0.5) % 1 - 0.5, 0, atol=1e-3)
                for e, o in zip(species, coords, strict=True)
            ):
                species.append(el)
                coords.append(c)
    return Structure(Lattice.orthorhombic(*cell), species, coords)


def _li3po4() -> list[dict]:
    """gamma- and beta-Li3PO4 in their measured cells (see :data:`LI3PO4`)."""
    return [
        _entry(name, _from_asymmetric_unit(ops, cell, sites), source, note)
        for name, ops, cell, sites, source, note in LI3PO4
    ]


def _ordered_lgps() -> Structure:
    """Li20Ge2P4S24 (two formula units, 50 atoms): occupancies rounded to the ideal 11/16, 5/8 and 1/2."""
    from pymatgen.transformations.standard_transformations import OrderDisorderedStructureTransformation

    s = Structure.from_file(_mp_dir() / "Li10GeP2S12.json")
    for i, site in enumerate(s):
        sp = site.species
        if "Ge" in sp:
            occ = {"Ge4+": 0.5, "P5+": 0.5}
        elif "Li" in sp:
            o = sp["Li"]
            occ = {"Li+": 1.0} if o > 0.99 else {"Li+": 11 / 16 if o > 0.67 else 5 / 8}
        elif "P" in sp:
            occ = {"P5+": 1.0}
        else:
            occ = {"S2-": 1.0}
        s.replace(i, occ)
    ranked = OrderDisorderedStructureTransformation(algo=0).apply_transformation(s, return_ranked_list=1)
    ordered = ranked[0]["structure"]
    ordered.remove_oxidation_states()
    return ordered


def validate(entries: list[dict], fmax: float = 2.0) -> None:
    """Print the entries on which CHGNet (shipped weights, CPU) finds a max force above ``fmax`` (eV/Å).

    Experimental structures give forces well below that; far larger ones mean wrong coordinates
    (relax those to see whether the structure type survives before keeping them).
    """
    import torch
    from chgnet.model import CHGNet

    torch.set_num_threads(1)
    model = CHGNet.load(verbose=False)
    for e in entries:
        pred = model.predict_structure(Structure.from_dict(e["structure"]))
        fm, pressure = float(np.abs(pred["f"]).max()), float(-np.mean(pred["s"][:3]))
        if fm > fmax:
            print(f"CHECK {e['name']:<40} max force {fm:6.2f} eV/Å, pressure {pressure:7.1f} GPa")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output .json.gz")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--validate", action="store_true", help="CHGNet single points to flag wrong coordinates"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    protos = aflow_prototypes()
    for table in (AFLOW_EXCLUDE, AFLOW_ELEMENTS, AFLOW_NAMES, AFLOW_NOTES):
        unknown = set(table) - set(protos)
        if unknown:
            raise SystemExit(f"unknown AFLOW keys: {sorted(unknown)}")
    entries = (
        delta_entries()
        + experimental_element_entries()
        + aflow_entries(protos)
        + mp_entries()
        + derived_entries(protos)
    )
    names = [e["name"] for e in entries]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit(f"duplicate entry names: {sorted(dup)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(entries, separators=(",", ":")).encode()
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write(payload)
    if not args.quiet:
        for e in entries:
            s = Structure.from_dict(e["structure"])
            sg = SpacegroupAnalyzer(s, symprec=0.1).get_space_group_symbol()
            vpa = s.volume / len(s)
            print(f"{e['name']:<40} {e['formula']:<14} {len(s):>3} {sg:<10} {vpa:6.2f} | {e['source'][:70]}")
    if args.validate:
        validate(entries)
    print(f"wrote {len(entries)} entries to {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
