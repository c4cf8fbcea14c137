"""Integrity of the bundled knowledge tables (read directly with pandas, no loader).

Each check states a property the interpretation code relies on: exact column names, cited
sources, a single meaning for every alias, ids on the shared vocabulary, and the lesion-axis
consequences that decide which muscles a mononeuropathy explains.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from edxreview.knowledge import load_anatomy

DATA = Path(__file__).resolve().parents[2] / "src" / "edxreview" / "knowledge" / "data"

COLUMNS = {
    "muscles": [
        "muscle", "display_name", "aliases", "region", "als_region", "nerve", "branch",
        "branch_rank", "plexus_element", "roots_main", "roots_minor", "cranial_nerve", "nucleus",
        "brainstem_level", "distality", "midline", "source", "status", "status_reason",
    ],
    "nerve_sites": ["nerve", "site", "site_rank", "aliases", "entrapment", "source"],
    "nerves": [
        "nerve", "display_name", "aliases", "kind", "limb", "default_recording_site",
        "default_lesion_site", "lesion_axis", "lesion_axis_rank", "division_of", "source",
    ],
    "ncs_limits_adult": [
        "study", "nerve", "recording_site", "parameter", "bound", "limit", "unit",
        "age_min_years", "age_max_years", "height_ref_cm", "height_slope_ms_per_cm",
        "distance_mm", "technique", "source", "status", "status_reason",
    ],
    "vertebra_segments": [
        "vertebra", "segments_main", "segments_adjacent", "cord", "source", "status",
        "status_reason",
    ],
    "brainstem_nuclei": ["level", "nucleus", "cranial_nerve", "muscles", "source", "status",
                         "status_reason"],
    "segments": ["segment", "position", "region"],
}
META_IDS = {
    "muscles": "anatomy_muscles",
    "nerve_sites": "nerve_sites",
    "nerves": "nerves",
    "ncs_limits_adult": "ncs_limits_adult",
    "vertebra_segments": "vertebra_segments",
    "brainstem_nuclei": "brainstem_nuclei",
    "segments": "segments",
}
TABLES_WITH_SOURCE = [name for name, cols in COLUMNS.items() if "source" in cols]

VOCAB_MUSCLES = """
rhomboid_major serratus_anterior supraspinatus infraspinatus deltoid teres_minor
latissimus_dorsi pectoralis_major_clavicular pectoralis_major_sternal biceps_brachii
brachialis brachioradialis triceps anconeus extensor_carpi_radialis_longus
extensor_carpi_radialis_brevis supinator extensor_digitorum_communis extensor_carpi_ulnaris
abductor_pollicis_longus extensor_pollicis_brevis extensor_indicis pronator_teres
flexor_carpi_radialis flexor_digitorum_superficialis flexor_pollicis_longus
pronator_quadratus flexor_digitorum_profundus_2_3 flexor_digitorum_profundus_4_5
flexor_carpi_ulnaris abductor_pollicis_brevis opponens_pollicis first_dorsal_interosseous
abductor_digiti_minimi cervical_paraspinals iliopsoas adductor_longus adductor_magnus
rectus_femoris vastus_lateralis vastus_medialis tensor_fasciae_latae gluteus_medius
gluteus_maximus biceps_femoris_short_head biceps_femoris_long_head semitendinosus
semimembranosus tibialis_anterior extensor_hallucis_longus extensor_digitorum_brevis
peroneus_longus peroneus_brevis tibialis_posterior flexor_digitorum_longus
flexor_hallucis_longus gastrocnemius_medial gastrocnemius_lateral soleus abductor_hallucis
abductor_digiti_minimi_pedis lumbosacral_paraspinals thoracic_paraspinals rectus_abdominis
external_oblique diaphragm genioglossus masseter temporalis frontalis orbicularis_oculi
orbicularis_oris mentalis nasalis sternocleidomastoid trapezius
""".split()

VOCAB_NERVES = """
median ulnar radial musculocutaneous axillary suprascapular dorsal_scapular long_thoracic
thoracodorsal pectoral femoral obturator superior_gluteal inferior_gluteal peroneal tibial
sciatic facial trigeminal hypoglossal accessory phrenic intercostal posterior_rami
""".split()
VOCAB_SENSORY_NERVES = """
sural superficial_peroneal saphenous lateral_antebrachial_cutaneous
medial_antebrachial_cutaneous dorsal_ulnar_cutaneous lateral_femoral_cutaneous
""".split()
VOCAB_SITES = """
wrist palm forearm below_elbow elbow above_elbow spiral_groove axilla erb ankle
below_fibular_head fibular_head above_fibular_head popliteal_fossa knee thigh groin
stylomastoid digit
""".split()
STIMULATED_NERVES = [
    "median", "ulnar", "radial", "peroneal", "tibial", "facial", "musculocutaneous",
    "axillary", "femoral", "accessory",
]
FACIAL_MUSCLES = {"frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis", "nasalis"}
AXIS = (
    ["midbrain", "pons", "medulla"]
    + [f"C{i}" for i in range(1, 9)]
    + [f"T{i}" for i in range(1, 13)]
    + [f"L{i}" for i in range(1, 6)]
    + [f"S{i}" for i in range(1, 6)]
    + ["Co"]
)


def read_table(name: str) -> pd.DataFrame:
    """Read one knowledge CSV as text, empty cells as ''."""
    return pd.read_csv(DATA / f"{name}.csv", dtype=str, keep_default_na=False)


def read_meta(name: str) -> dict:
    with open(DATA / f"{name}.meta.toml", "rb") as fh:
        return tomllib.load(fh)


def split(cell: str) -> list[str]:
    return [part for part in cell.split("|") if part]


def normalize(name: str) -> str:
    """Match key for user spellings: case-insensitive, spaces/hyphens/underscores/dots dropped."""
    return re.sub(r"[\s\-_.]+", "", name.strip().lower())


@pytest.fixture(scope="module")
def muscles() -> pd.DataFrame:
    frame = read_table("muscles")
    frame["branch_rank"] = frame["branch_rank"].astype(float)
    return frame


@pytest.fixture(scope="module")
def sites() -> pd.DataFrame:
    frame = read_table("nerve_sites")
    frame["site_rank"] = frame["site_rank"].astype(float)
    return frame


@pytest.fixture(scope="module")
def nerves() -> pd.DataFrame:
    return read_table("nerves")


@pytest.fixture(scope="module")
def limits() -> pd.DataFrame:
    return read_table("ncs_limits_adult")


@pytest.fixture(scope="module")
def vertebrae() -> pd.DataFrame:
    return read_table("vertebra_segments")


def site_rank(sites: pd.DataFrame, nerve: str, site: str) -> float:
    hit = sites[(sites["nerve"] == nerve) & (sites["site"] == site)]
    assert len(hit) == 1, f"expected one {nerve!r} site {site!r}, found {len(hit)}"
    return float(hit["site_rank"].iloc[0])


def explained(muscles: pd.DataFrame, sites: pd.DataFrame, nerve: str, site: str) -> set[str]:
    """Muscles a lesion of `nerve` at `site` explains: same nerve, branch leaves distal to it."""
    rank = site_rank(sites, nerve, site)
    hit = muscles[(muscles["nerve"] == nerve) & (muscles["branch_rank"] > rank)]
    return set(hit["muscle"])


# --- files, sidecars, columns ------------------------------------------------------------


@pytest.mark.parametrize("name", list(COLUMNS))
def test_sidecar_has_provenance(name):
    meta = read_meta(name)
    assert meta["id"] == META_IDS[name]
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["version"])
    assert meta["citation"].strip()
    if "status" in COLUMNS[name]:  # row status replaces the table-level flag
        assert "verified" not in meta
    else:
        assert isinstance(meta["verified"], bool)


@pytest.mark.parametrize("name", list(COLUMNS))
def test_columns_exactly_as_contracted(name):
    assert list(read_table(name).columns) == COLUMNS[name]


@pytest.mark.parametrize("name", TABLES_WITH_SOURCE)
def test_every_source_key_is_defined_in_the_sidecar(name):
    defined = read_meta(name).get("sources", {})
    for key, entry in defined.items():
        if "status" in COLUMNS[name]:  # described by fields (see test_reference_status.py)
            assert (entry.get("title") or entry.get("citation", "")).strip(), key
            assert entry.get("read", "").strip(), f"{name}: source {key!r} says nothing read"
            continue
        assert entry["citation"].strip(), f"{name}: source {key!r} has no citation"
        assert isinstance(entry["verified"], bool), f"{name}: source {key!r} verified flag"
    for row, cell in enumerate(read_table(name)["source"]):
        keys = split(cell)
        assert keys, f"{name} row {row}: empty source"
        unknown = set(keys) - set(defined)
        assert not unknown, f"{name} row {row}: undefined source keys {sorted(unknown)}"


def test_readme_describes_every_table():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for name in COLUMNS:
        assert f"{name}.csv" in readme, f"README.md does not describe {name}.csv"


@pytest.mark.parametrize("name", ["ncs_limits_adult", "vertebra_segments", "brainstem_nuclei",
                                  "muscles"])
def test_row_status_is_on_the_closed_list(name):
    assert set(read_table(name)["status"]) <= {"verified", "corrected", "unsourced", "convention"}


# --- segment axis --------------------------------------------------------------------------


def test_segment_axis_order_and_positions():
    frame = read_table("segments")
    assert list(frame["segment"]) == AXIS
    assert list(frame["position"].astype(int)) == list(range(len(AXIS)))
    regions = dict(zip(frame["segment"], frame["region"]))
    assert regions["pons"] == "brainstem"
    assert regions["C8"] == "cervical"
    assert regions["T12"] == "thoracic"
    assert regions["L5"] == "lumbar"
    assert regions["S5"] == "sacral"
    assert regions["Co"] == "coccygeal"


# --- muscles ---------------------------------------------------------------------------------


def test_every_vocabulary_muscle_is_present(muscles):
    missing = set(VOCAB_MUSCLES) - set(muscles["muscle"])
    assert not missing, sorted(missing)
    assert len(muscles) >= 75
    assert muscles["muscle"].is_unique
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", m) for m in muscles["muscle"])


def test_muscle_aliases_map_to_exactly_one_muscle(muscles):
    owner: dict[str, str] = {normalize(m): m for m in muscles["muscle"]}
    for muscle, cell in zip(muscles["muscle"], muscles["aliases"]):
        for alias in split(cell):
            key = normalize(alias)
            assert key, f"{muscle}: empty alias"
            assert key not in owner, (
                f"alias {alias!r} of {muscle} collides with {owner[key]!r} "
                "(or repeats its own canonical id)"
            )
            owner[key] = muscle


@pytest.mark.parametrize(
    ("alias", "muscle"),
    [
        ("APB", "abductor_pollicis_brevis"),
        ("abd poll brev", "abductor_pollicis_brevis"),
        ("FDI", "first_dorsal_interosseous"),
        ("1st DI", "first_dorsal_interosseous"),
        ("first DI", "first_dorsal_interosseous"),
        ("ADM", "abductor_digiti_minimi"),
        ("ADQ", "abductor_digiti_minimi"),
        ("abductor digiti quinti", "abductor_digiti_minimi"),
        ("EDC", "extensor_digitorum_communis"),
        ("ext dig communis", "extensor_digitorum_communis"),
        ("EIP", "extensor_indicis"),
        ("FDP 4-5", "flexor_digitorum_profundus_4_5"),
        ("TA", "tibialis_anterior"),
        ("tib ant", "tibialis_anterior"),
        ("EDB", "extensor_digitorum_brevis"),
        ("ext dig brevis", "extensor_digitorum_brevis"),
        ("MG", "gastrocnemius_medial"),
        ("gastrocnemius", "gastrocnemius_medial"),
        ("lat gastroc", "gastrocnemius_lateral"),
        ("BFSH", "biceps_femoris_short_head"),
        ("BF short head", "biceps_femoris_short_head"),
        ("fibularis longus", "peroneus_longus"),
        ("tib post", "tibialis_posterior"),
        ("AH", "abductor_hallucis"),
        ("ADQP", "abductor_digiti_minimi_pedis"),
        ("iliacus", "iliopsoas"),
        ("psoas", "iliopsoas"),
        ("tongue", "genioglossus"),
        ("orb oculi", "orbicularis_oculi"),
        ("orb oris", "orbicularis_oris"),
        ("SCM", "sternocleidomastoid"),
        ("upper trapezius", "trapezius"),
        ("CPS", "cervical_paraspinals"),
        ("cervical paraspinal", "cervical_paraspinals"),
        ("TPS", "thoracic_paraspinals"),
        ("LPS", "lumbosacral_paraspinals"),
        ("lumbar paraspinals", "lumbosacral_paraspinals"),
        ("Abductor Pollicis Brevis", "abductor_pollicis_brevis"),
    ],
)
def test_common_clinical_spellings_resolve(muscles, alias, muscle):
    lookup = {normalize(m): m for m in muscles["muscle"]}
    for canonical, cell in zip(muscles["muscle"], muscles["aliases"]):
        lookup.update({normalize(a): canonical for a in split(cell)})
    assert lookup.get(normalize(alias)) == muscle


@pytest.mark.parametrize("ambiguous", ["OO", "FDP", "L5 paraspinal", "biceps femoris"])
def test_ambiguous_spellings_are_not_aliases(muscles, ambiguous):
    aliases = {normalize(a) for cell in muscles["aliases"] for a in split(cell)}
    assert normalize(ambiguous) not in aliases


def test_muscle_enumerations(muscles):
    assert set(muscles["region"]) <= {"upper_limb", "lower_limb", "trunk", "cranial", "paraspinal"}
    assert set(muscles["als_region"]) <= {"bulbar", "cervical", "thoracic", "lumbosacral"}
    assert set(muscles["brainstem_level"]) <= {"midbrain", "pons", "medulla", ""}
    assert set(muscles["distality"].astype(int)) <= {1, 2, 3, 4, 5}
    assert set(muscles["cranial_nerve"]) <= {"", "V", "VII", "XI", "XII"}


def test_roots_are_on_the_segment_axis(muscles):
    for muscle, main, minor in zip(muscles["muscle"], muscles["roots_main"], muscles["roots_minor"]):
        main_roots, minor_roots = split(main), split(minor)
        assert set(main_roots + minor_roots) <= set(AXIS), muscle
        assert not set(main_roots) & set(minor_roots), f"{muscle}: root both main and minor"
        positions = [AXIS.index(r) for r in main_roots]
        assert positions == sorted(positions), f"{muscle}: roots_main not in axis order"


def test_every_spinal_muscle_has_main_roots(muscles):
    brainstem = muscles["brainstem_level"] != ""
    assert (muscles.loc[~brainstem, "roots_main"] != "").all()
    assert (muscles.loc[brainstem, "roots_main"] == "").all()


@pytest.mark.parametrize(
    ("muscle", "roots"),
    [
        ("cervical_paraspinals", [f"C{i}" for i in range(3, 9)]),
        ("thoracic_paraspinals", [f"T{i}" for i in range(1, 13)]),
        ("lumbosacral_paraspinals", ["L1", "L2", "L3", "L4", "L5", "S1"]),
        ("abductor_pollicis_brevis", ["C8", "T1"]),
        ("deltoid", ["C5"]),
        ("triceps", ["C7"]),
        ("tibialis_anterior", ["L4", "L5"]),
        ("gastrocnemius_medial", ["S1"]),
        ("sternocleidomastoid", ["C2", "C3"]),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(v),
)
def test_main_roots(muscles, muscle, roots):
    row = muscles.set_index("muscle").loc[muscle]
    assert split(row["roots_main"]) == roots


def test_cranial_muscles_name_their_nucleus(muscles):
    cranial = muscles[muscles["cranial_nerve"] != ""]
    assert (cranial["nucleus"] != "").all()
    assert (cranial["als_region"].isin(["bulbar", "cervical"])).all()
    accessory = cranial[cranial["cranial_nerve"] == "XI"]
    assert set(accessory["nucleus"]) == {"spinal accessory nucleus"}
    assert (accessory["brainstem_level"] == "").all()
    by_muscle = muscles.set_index("muscle")
    assert by_muscle.loc["genioglossus", "brainstem_level"] == "medulla"
    assert by_muscle.loc["masseter", "brainstem_level"] == "pons"
    assert (by_muscle.loc[sorted(FACIAL_MUSCLES), "nucleus"] == "facial nucleus").all()


def test_muscle_nerves_are_known_motor_nerves(muscles, nerves):
    kinds = dict(zip(nerves["nerve"], nerves["kind"]))
    for muscle, nerve in zip(muscles["muscle"], muscles["nerve"]):
        assert nerve in kinds, f"{muscle}: unknown nerve {nerve!r}"
        assert kinds[nerve] != "sensory", f"{muscle}: hangs from sensory nerve {nerve!r}"


@pytest.mark.parametrize(
    ("muscle", "nerve"),
    [
        ("biceps_femoris_short_head", "peroneal"),
        ("biceps_femoris_long_head", "tibial"),
        ("semitendinosus", "tibial"),
        ("semimembranosus", "tibial"),
        ("flexor_pollicis_longus", "median"),
        ("pronator_quadratus", "median"),
        ("extensor_indicis", "radial"),
        ("supinator", "radial"),
        ("tibialis_anterior", "peroneal"),
        ("peroneus_longus", "peroneal"),
        ("abductor_hallucis", "tibial"),
        ("cervical_paraspinals", "posterior_rami"),
    ],
)
def test_nerve_is_the_trunk_a_lesion_hits(muscles, muscle, nerve):
    assert muscles.set_index("muscle").loc[muscle, "nerve"] == nerve


def test_distality_grades(muscles):
    grade = muscles.set_index("muscle")["distality"].astype(int)
    for m in ["abductor_pollicis_brevis", "first_dorsal_interosseous", "extensor_digitorum_brevis",
              "abductor_hallucis"]:
        assert grade[m] == 1, m
    for m in ["tibialis_anterior", "gastrocnemius_medial", "flexor_carpi_ulnaris"]:
        assert grade[m] == 2, m
    for m in ["vastus_lateralis", "biceps_brachii", "triceps"]:
        assert grade[m] == 3, m
    for m in ["deltoid", "gluteus_medius", "iliopsoas"]:
        assert grade[m] == 4, m
    for m in ["thoracic_paraspinals", "genioglossus", "rectus_abdominis"]:
        assert grade[m] == 5, m


# --- lesion axis: which muscles a mononeuropathy at a site explains ---------------------------

LESIONS = [
    ("median", "wrist", {"abductor_pollicis_brevis", "opponens_pollicis"}, set()),
    ("ulnar", "elbow", {"flexor_carpi_ulnaris", "flexor_digitorum_profundus_4_5",
                        "first_dorsal_interosseous", "abductor_digiti_minimi"}, set()),
    ("ulnar", "wrist", {"first_dorsal_interosseous", "abductor_digiti_minimi"}, set()),
    ("peroneal", "fibular_head", {"tibialis_anterior", "extensor_hallucis_longus",
                                  "extensor_digitorum_brevis", "peroneus_longus",
                                  "peroneus_brevis"}, {"biceps_femoris_short_head"}),
    ("radial", "spiral_groove", {"brachioradialis", "extensor_carpi_radialis_longus",
                                 "extensor_carpi_radialis_brevis", "supinator",
                                 "extensor_digitorum_communis", "extensor_carpi_ulnaris",
                                 "abductor_pollicis_longus", "extensor_pollicis_brevis",
                                 "extensor_indicis"}, {"triceps", "anconeus"}),
    ("tibial", "popliteal_fossa", {"gastrocnemius_medial", "gastrocnemius_lateral", "soleus",
                                   "tibialis_posterior", "flexor_digitorum_longus",
                                   "flexor_hallucis_longus", "abductor_hallucis",
                                   "abductor_digiti_minimi_pedis"},
     {"semitendinosus", "semimembranosus", "biceps_femoris_long_head"}),
    ("tibial", "ankle", {"abductor_hallucis", "abductor_digiti_minimi_pedis"}, set()),
    ("facial", "stylomastoid", FACIAL_MUSCLES, set()),
    ("peroneal", "thigh", {"biceps_femoris_short_head", "tibialis_anterior",
                           "extensor_hallucis_longus", "extensor_digitorum_brevis",
                           "peroneus_longus", "peroneus_brevis"}, set()),
    ("accessory", "erb", {"trapezius"}, {"sternocleidomastoid"}),
    ("femoral", "groin", {"rectus_femoris", "vastus_lateralis", "vastus_medialis"}, {"iliopsoas"}),
]


@pytest.mark.parametrize(
    ("nerve", "site", "expected", "spared"),
    LESIONS,
    ids=[
        "carpal tunnel", "ulnar at elbow", "ulnar at Guyon", "peroneal at fibular head",
        "radial at spiral groove", "tibial in popliteal fossa", "tarsal tunnel",
        "facial at stylomastoid foramen", "sciatic (peroneal division)",
        "accessory in posterior triangle", "femoral at inguinal ligament",
    ],
)
def test_lesion_explains_exactly_the_distal_muscles(muscles, sites, nerve, site, expected, spared):
    got = explained(muscles, sites, nerve, site)
    assert got == expected
    assert not got & spared


@pytest.mark.parametrize(
    ("nerve", "distal_stim_site"),
    [
        ("median", "palm"), ("ulnar", "wrist"), ("radial", "forearm"),
        ("peroneal", "ankle"), ("tibial", "ankle"), ("facial", "stylomastoid"),
        ("musculocutaneous", "axilla"), ("axillary", "axilla"), ("femoral", "groin"),
        ("accessory", "erb"),
    ],
)
def test_default_recording_muscle_lies_distal_to_stimulation(muscles, sites, nerves, nerve,
                                                             distal_stim_site):
    recording = nerves.set_index("nerve").loc[nerve, "default_recording_site"]
    row = muscles.set_index("muscle").loc[recording]
    assert row["nerve"] == nerve
    assert row["branch_rank"] > site_rank(sites, nerve, distal_stim_site)


# --- nerve sites -----------------------------------------------------------------------------


def test_sites_use_the_vocabulary_and_cover_stimulated_nerves(sites):
    assert set(sites["site"]) <= set(VOCAB_SITES)
    assert set(STIMULATED_NERVES) <= set(sites["nerve"])
    assert not sites.duplicated(["nerve", "site"]).any()
    for nerve, group in sites.groupby("nerve"):
        assert group["site_rank"].is_unique, nerve


@pytest.mark.parametrize(
    ("nerve", "site"),
    [
        ("median", "wrist"), ("median", "elbow"), ("median", "erb"), ("ulnar", "wrist"),
        ("ulnar", "below_elbow"), ("ulnar", "elbow"), ("ulnar", "above_elbow"),
        ("ulnar", "axilla"), ("radial", "spiral_groove"), ("radial", "forearm"),
        ("peroneal", "ankle"), ("peroneal", "below_fibular_head"), ("peroneal", "fibular_head"),
        ("peroneal", "above_fibular_head"), ("tibial", "ankle"), ("tibial", "popliteal_fossa"),
        ("facial", "stylomastoid"), ("musculocutaneous", "erb"), ("axillary", "erb"),
        ("femoral", "groin"), ("accessory", "erb"),
    ],
)
def test_required_site_present(sites, nerve, site):
    site_rank(sites, nerve, site)


@pytest.mark.parametrize(
    ("nerve", "proximal", "distal"),
    [
        ("median", "elbow", "wrist"), ("ulnar", "above_elbow", "elbow"),
        ("ulnar", "elbow", "below_elbow"), ("ulnar", "below_elbow", "wrist"),
        ("radial", "axilla", "spiral_groove"), ("radial", "spiral_groove", "elbow"),
        ("peroneal", "above_fibular_head", "fibular_head"),
        ("peroneal", "fibular_head", "below_fibular_head"),
        ("peroneal", "below_fibular_head", "ankle"), ("tibial", "popliteal_fossa", "ankle"),
    ],
)
def test_sites_ranked_proximal_to_distal(sites, nerve, proximal, distal):
    assert site_rank(sites, nerve, proximal) < site_rank(sites, nerve, distal)


def test_entrapment_sites_are_the_classic_ones(sites):
    flagged = set(map(tuple, sites.loc[sites["entrapment"] == "true", ["nerve", "site"]].values))
    assert flagged == {
        ("median", "wrist"), ("ulnar", "elbow"), ("ulnar", "wrist"),
        ("peroneal", "fibular_head"), ("radial", "spiral_groove"), ("tibial", "ankle"),
    }
    assert set(sites["entrapment"]) <= {"true", "false"}


def test_site_aliases_unique_within_a_nerve(sites):
    for nerve, group in sites.groupby("nerve"):
        owner = {normalize(s): s for s in group["site"]}
        for site, cell in zip(group["site"], group["aliases"]):
            for alias in split(cell):
                key = normalize(alias)
                assert key not in owner, f"{nerve}: alias {alias!r} of {site} clashes with {owner[key]!r}"
                owner[key] = site


@pytest.mark.parametrize(
    ("nerve", "alias", "site"),
    [
        ("ulnar", "BE", "below_elbow"), ("ulnar", "below elbow", "below_elbow"),
        ("ulnar", "AE", "above_elbow"), ("peroneal", "fib head", "fibular_head"),
        ("peroneal", "BFH", "below_fibular_head"), ("peroneal", "AFH", "above_fibular_head"),
        ("peroneal", "knee", "above_fibular_head"), ("tibial", "knee", "popliteal_fossa"),
        ("tibial", "pop fossa", "popliteal_fossa"), ("median", "Erb's point", "erb"),
        ("facial", "stylomastoid foramen", "stylomastoid"),
    ],
)
def test_site_aliases_resolve(sites, nerve, alias, site):
    group = sites[sites["nerve"] == nerve]
    lookup = {normalize(s): s for s in group["site"]}
    for canonical, cell in zip(group["site"], group["aliases"]):
        lookup.update({normalize(a): canonical for a in split(cell)})
    assert lookup.get(normalize(alias)) == site


# --- nerves ----------------------------------------------------------------------------------


def test_nerve_vocabulary(nerves):
    assert set(VOCAB_NERVES + VOCAB_SENSORY_NERVES) <= set(nerves["nerve"])
    assert nerves["nerve"].is_unique
    assert set(nerves["kind"]) <= {"motor", "sensory", "mixed", "cranial"}
    assert set(nerves["limb"]) <= {"upper", "lower", "cranial", "trunk"}
    kinds = nerves.set_index("nerve")["kind"]
    assert (kinds[VOCAB_SENSORY_NERVES] == "sensory").all()


def test_nerve_aliases_map_to_exactly_one_nerve(nerves):
    owner = {normalize(n): n for n in nerves["nerve"]}
    for nerve, cell in zip(nerves["nerve"], nerves["aliases"]):
        for alias in split(cell):
            key = normalize(alias)
            assert key not in owner, f"alias {alias!r} of {nerve} clashes with {owner[key]!r}"
            owner[key] = nerve
    for alias, nerve in [("fibular", "peroneal"), ("common peroneal", "peroneal"),
                         ("deep peroneal", "peroneal"), ("CPN", "peroneal"),
                         ("superficial fibular", "superficial_peroneal"),
                         ("sup peroneal", "superficial_peroneal"),
                         ("LABC", "lateral_antebrachial_cutaneous"),
                         ("MABC", "medial_antebrachial_cutaneous"),
                         ("DUC", "dorsal_ulnar_cutaneous"), ("superficial radial", "radial"),
                         ("VII", "facial"), ("facial nerve", "facial"),
                         ("posterior tibial", "tibial")]:
        assert owner.get(normalize(alias)) == nerve, alias
    assert normalize("SPN") not in owner


@pytest.mark.parametrize(
    ("nerve", "recording", "lesion"),
    [
        ("median", "abductor_pollicis_brevis", "wrist"),
        ("ulnar", "abductor_digiti_minimi", "elbow"),
        ("radial", "extensor_indicis", "spiral_groove"),
        ("peroneal", "extensor_digitorum_brevis", "fibular_head"),
        ("tibial", "abductor_hallucis", "ankle"),
        ("facial", "nasalis", "stylomastoid"),
        ("musculocutaneous", "biceps_brachii", None),
        ("axillary", "deltoid", None),
        ("femoral", "rectus_femoris", None),
        ("accessory", "trapezius", None),
    ],
)
def test_nerve_defaults(nerves, sites, nerve, recording, lesion):
    row = nerves.set_index("nerve").loc[nerve]
    assert row["default_recording_site"] == recording
    if lesion is not None:
        assert row["default_lesion_site"] == lesion
    site_rank(sites, nerve, row["default_lesion_site"])


def test_nerve_references_are_consistent(nerves, muscles, sites):
    muscle_nerve = dict(zip(muscles["muscle"], muscles["nerve"]))
    for _, row in nerves.iterrows():
        if row["default_recording_site"]:
            assert muscle_nerve[row["default_recording_site"]] == row["nerve"], row["nerve"]
        if row["default_lesion_site"]:
            site_rank(sites, row["nerve"], row["default_lesion_site"])
        if row["kind"] == "sensory":
            assert row["default_recording_site"] == "" and row["default_lesion_site"] == ""
        assert (row["lesion_axis"] == "") == (row["lesion_axis_rank"] == ""), row["nerve"]
        if row["lesion_axis"]:
            assert row["kind"] == "sensory", row["nerve"]
            assert row["lesion_axis"] in set(sites["nerve"]), row["nerve"]


def test_tibial_and_peroneal_are_the_divisions_of_the_sciatic(nerves, muscles):
    """Guide §3b: the tibial and peroneal nerves are the sciatic nerve's divisions; the gluteal
    nerves leave the sacral plexus itself, so they are no division of it."""
    division_of = dict(zip(nerves["nerve"], nerves["division_of"]))
    assert {n for n, whole in division_of.items() if whole} == {"tibial", "peroneal"}
    assert {division_of["tibial"], division_of["peroneal"]} == {"sciatic"}
    assert not division_of["superior_gluteal"] and not division_of["inferior_gluteal"]
    # a nerve with divisions supplies its muscles through them
    assert "sciatic" not in set(muscles["nerve"])


@pytest.mark.parametrize(
    ("branch", "covered_by", "not_covered_by"),
    [
        ("superficial_peroneal", ("peroneal", "fibular_head"), ("peroneal", "ankle")),
        ("dorsal_ulnar_cutaneous", ("ulnar", "elbow"), ("ulnar", "wrist")),
        ("lateral_antebrachial_cutaneous", ("musculocutaneous", "axilla"), None),
        ("sural", ("tibial", "popliteal_fossa"), ("tibial", "ankle")),
    ],
    ids=["SP: fibular head yes, ankle no", "DUC: elbow yes, Guyon no", "LABC: axilla",
         "sural: popliteal yes, ankle no"],
)
def test_sensory_branch_position_on_parent_axis(nerves, sites, branch, covered_by, not_covered_by):
    row = nerves.set_index("nerve").loc[branch]
    rank = float(row["lesion_axis_rank"])
    assert row["lesion_axis"] == covered_by[0]
    assert rank > site_rank(sites, *covered_by)
    if not_covered_by is not None:
        assert rank < site_rank(sites, *not_covered_by)


# --- reference limits ------------------------------------------------------------------------

PARAMETERS = {
    "motor": {"amplitude_mv": "lower", "latency_ms": "upper", "velocity_m_s": "lower",
              "amplitude_side_ratio": "lower"},
    "sensory": {"amplitude_uv": "lower", "latency_ms": "upper", "velocity_m_s": "lower"},
    "f_wave": {"min_latency_ms": "upper"},
    "blink": {p: "upper" for p in ["r1_ms", "r2_ipsi_ms", "r2_contra_ms", "r1_side_diff_ms",
                                   "r2_ipsi_contra_diff_ms", "r2_side_diff_ms"]},
}
REQUIRED_LIMITS = (
    [("motor", n, r, p) for n, r in [
        ("median", "abductor_pollicis_brevis"), ("ulnar", "abductor_digiti_minimi"),
        ("ulnar", "first_dorsal_interosseous"), ("radial", "extensor_indicis"),
        ("peroneal", "extensor_digitorum_brevis"), ("peroneal", "tibialis_anterior"),
        ("tibial", "abductor_hallucis")] for p in ["amplitude_mv", "latency_ms", "velocity_m_s"]]
    + [("motor", "facial", "nasalis", p) for p in ["amplitude_mv", "latency_ms",
                                                  "amplitude_side_ratio"]]
    + [("sensory", n, r, p) for n, r in [
        ("median", "digit_2"), ("ulnar", "digit_5"), ("radial", "snuffbox"),
        ("sural", "lateral_malleolus"), ("superficial_peroneal", "ankle"),
        ("saphenous", "medial_ankle"), ("lateral_antebrachial_cutaneous", "forearm"),
        ("medial_antebrachial_cutaneous", "forearm"), ("dorsal_ulnar_cutaneous", "dorsum_hand")]
       for p in ["amplitude_uv", "latency_ms", "velocity_m_s"]]
    + [("f_wave", n, "", "min_latency_ms") for n in ["median", "ulnar", "peroneal", "tibial"]]
    + [("blink", "facial", "", p) for p in PARAMETERS["blink"]]
)


@pytest.mark.parametrize(("study", "nerve", "recording", "parameter"), REQUIRED_LIMITS,
                         ids=["/".join(x for x in case if x) for case in REQUIRED_LIMITS])
def test_required_limit_present(limits, study, nerve, recording, parameter):
    hit = limits[(limits["study"] == study) & (limits["nerve"] == nerve)
                 & (limits["recording_site"] == recording) & (limits["parameter"] == parameter)]
    assert len(hit) >= 1


def test_limit_rows_are_well_formed(limits, muscles, nerves):
    assert set(limits["study"]) == set(PARAMETERS)
    muscle_ids, nerve_ids = set(muscles["muscle"]), set(nerves["nerve"])
    for i, row in limits.iterrows():
        assert PARAMETERS[row["study"]].get(row["parameter"]) == row["bound"], i
        assert float(row["limit"]) > 0, i
        assert row["nerve"] in nerve_ids, i
        assert row["technique"].strip(), i
        if row["study"] == "motor":
            assert row["recording_site"] in muscle_ids, i
        if row["study"] in ("f_wave", "blink"):
            assert row["recording_site"] == "", i
    key = ["study", "nerve", "recording_site", "parameter", "age_min_years", "age_max_years"]
    assert not limits.duplicated(key).any()


def test_age_bands_are_the_published_ones(limits):
    """Ulnar SNAP (P&S footnote), tibial CMAP (Buschbacher 1999, three age groups) and sural
    SNAP (Sreenivasan et al. 2016 from 61 years)."""
    banded = limits[(limits["age_min_years"] != "") | (limits["age_max_years"] != "")]
    assert set(zip(banded["nerve"], banded["parameter"])) == {("ulnar", "amplitude_uv"),
                                                              ("tibial", "amplitude_mv"),
                                                              ("sural", "amplitude_uv")}


@pytest.mark.parametrize(("age", "expected_uv"), [(25, 6), (60, 6), (61, 2.9), (70, 2.9),
                                                  (71, 1.9), (85, 1.9)])
def test_sural_snap_limit_by_age(limits, age, expected_uv):
    """Sreenivasan et al. 2016 (abstract): 2.9 uV at 61-70 y and 1.9 uV over 71 y at 14 cm;
    below 61 the conventional 6 uV."""
    rows = limits[(limits["study"] == "sensory") & (limits["nerve"] == "sural")
                  & (limits["parameter"] == "amplitude_uv")]
    lo = pd.to_numeric(rows["age_min_years"]).fillna(float("-inf"))
    hi = pd.to_numeric(rows["age_max_years"]).fillna(float("inf"))
    hit = rows[(lo <= age) & (age < hi)]
    assert len(hit) == 1
    assert float(hit["limit"].iloc[0]) == expected_uv


@pytest.mark.parametrize(("age", "expected_uv"), [(25, 17), (59.9, 17), (60, 10), (75, 10)])
def test_ulnar_snap_limit_by_age(limits, age, expected_uv):
    rows = limits[(limits["study"] == "sensory") & (limits["nerve"] == "ulnar")
                  & (limits["parameter"] == "amplitude_uv")]
    lo = pd.to_numeric(rows["age_min_years"]).fillna(float("-inf"))
    hi = pd.to_numeric(rows["age_max_years"]).fillna(float("inf"))
    hit = rows[(lo <= age) & (age < hi)]
    assert len(hit) == 1
    assert float(hit["limit"].iloc[0]) == expected_uv


@pytest.mark.parametrize(("nerve", "slope"), [("median", 0.16), ("ulnar", 0.16),
                                              ("peroneal", 0.28), ("tibial", 0.28)])
def test_f_wave_height_adjustment(limits, nerve, slope):
    row = limits[(limits["study"] == "f_wave") & (limits["nerve"] == nerve)].iloc[0]
    assert float(row["height_slope_ms_per_cm"]) == pytest.approx(slope)
    assert 150 <= float(row["height_ref_cm"]) <= 185
    # the height model is not a published one; the peroneal F-wave limit is a convention (no
    # printed table read), the tibial one is derived (mean + 2 SD of a published mean and SD)
    expected = {"median": "convention", "ulnar": "convention", "peroneal": "convention",
                "tibial": "corrected"}
    assert row["status"] == expected[nerve]
    assert "170 cm" in row["status_reason"]


@pytest.mark.parametrize(
    ("study", "nerve", "recording", "parameter", "value"),
    [
        ("motor", "median", "abductor_pollicis_brevis", "amplitude_mv", 4.0),
        ("motor", "median", "abductor_pollicis_brevis", "latency_ms", 4.4),
        ("motor", "ulnar", "abductor_digiti_minimi", "amplitude_mv", 6.0),
        ("motor", "peroneal", "extensor_digitorum_brevis", "latency_ms", 6.4),
        ("motor", "tibial", "abductor_hallucis", "latency_ms", 6.1),
        ("motor", "tibial", "abductor_hallucis", "velocity_m_s", 41),
        ("motor", "peroneal", "extensor_digitorum_brevis", "velocity_m_s", 41),
        ("motor", "facial", "nasalis", "amplitude_mv", 1.0),
        ("motor", "facial", "nasalis", "amplitude_side_ratio", 0.5),
        ("sensory", "median", "digit_2", "amplitude_uv", 20),
        ("sensory", "sural", "lateral_malleolus", "amplitude_uv", 6),
        ("sensory", "saphenous", "medial_ankle", "velocity_m_s", 39.6),
        ("f_wave", "tibial", "", "min_latency_ms", 55.2),
        ("sensory", "lateral_antebrachial_cutaneous", "forearm", "velocity_m_s", 55),
        ("f_wave", "peroneal", "", "min_latency_ms", 56),
        ("blink", "facial", "", "r1_ms", 13),
        ("blink", "facial", "", "r2_contra_ms", 44),
    ],
)
def test_limit_values_match_the_cited_table(limits, study, nerve, recording, parameter, value):
    """Spot values of the bundled limits (each row's status_reason names where it was read)."""
    hit = limits[(limits["study"] == study) & (limits["nerve"] == nerve)
                 & (limits["recording_site"] == recording) & (limits["parameter"] == parameter)]
    assert float(hit["limit"].iloc[0]) == pytest.approx(value)




# --- MRI vertebral level -> cord segments ------------------------------------------------------

VERTEBRAE = (
    [f"C{i}" for i in range(1, 8)] + [f"T{i}" for i in range(1, 13)]
    + ["L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3", "S4", "S5"]
)


def test_vertebra_rows_and_segments_on_axis(vertebrae):
    assert list(vertebrae["vertebra"]) == VERTEBRAE
    # no cord below L1 in adults: every sacral level is cord = false
    assert set(vertebrae.loc[vertebrae["vertebra"].str.startswith("S"), "cord"]) == {"false"}
    for _, row in vertebrae.iterrows():
        assert set(split(row["segments_main"]) + split(row["segments_adjacent"])) <= set(AXIS)
    assert set(vertebrae["cord"]) <= {"true", "false"}


def test_cord_ends_at_l1(vertebrae):
    cord = vertebrae.set_index("vertebra")["cord"]
    assert (cord[VERTEBRAE[: VERTEBRAE.index("L1") + 1]] == "true").all()
    below = vertebrae.set_index("vertebra").loc[["L2", "L3", "L4", "L5", "S1"]]
    assert (below["cord"] == "false").all()
    assert (below["segments_main"] == "").all()


def test_segments_descend_with_the_spine(vertebrae):
    starts = [AXIS.index(split(m)[0]) for m in vertebrae["segments_main"] if m]
    assert starts == sorted(starts)
    for main, adjacent in zip(vertebrae["segments_main"], vertebrae["segments_adjacent"]):
        if main and adjacent:
            assert AXIS.index(split(adjacent)[0]) > AXIS.index(split(main)[-1])


@pytest.mark.parametrize(
    ("vertebra", "main", "adjacent"),
    [
        ("C1", "C1", ""), ("C3", "C4", ""), ("C4", "C5", "C6"), ("C7", "C8", "T1"),
        ("T1", "T2|T3", ""), ("T6", "T8", ""), ("T9", "T11", "T12"), ("T10", "T12", "L1"),
        ("T11", "L1|L2", "L3"), ("T12", "L3|L4|L5", "S1"), ("L1", "S1|S2|S3|S4|S5|Co", ""),
    ],
)
def test_vertebra_mapping_follows_published_levels(vertebrae, vertebra, main, adjacent):
    """Kim et al. 2012 (Tn at body T(n-2)); Canbay et al. 2014 (lumbar cord from the upper third
    of T11, sacral cord from the upper third of L1)."""
    row = vertebrae.set_index("vertebra").loc[vertebra]
    assert (row["segments_main"], row["segments_adjacent"]) == (main, adjacent)


# --- brainstem nuclei --------------------------------------------------------------------------


def test_brainstem_nuclei_match_the_muscle_table(muscles):
    nuclei = read_table("brainstem_nuclei")
    assert set(nuclei["level"]) == {"midbrain", "pons", "medulla"}
    assert not (nuclei["nucleus"] == "spinal accessory nucleus").any()
    by_muscle = muscles.set_index("muscle")
    listed = set()
    for _, row in nuclei.iterrows():
        for muscle in split(row["muscles"]):
            assert by_muscle.loc[muscle, "nucleus"] == row["nucleus"], muscle
            assert by_muscle.loc[muscle, "brainstem_level"] == row["level"], muscle
            listed.add(muscle)
    brainstem_muscles = set(muscles.loc[muscles["brainstem_level"] != "", "muscle"])
    assert listed == brainstem_muscles
    levels = dict(zip(nuclei["nucleus"], nuclei["level"]))
    assert levels["oculomotor nucleus"] == "midbrain"
    assert levels["trochlear nucleus"] == "midbrain"
    assert levels["facial nucleus"] == "pons"
    assert levels["abducens nucleus"] == "pons"
    assert levels["hypoglossal nucleus"] == "medulla"
    assert levels["nucleus ambiguus"] == "medulla"


@pytest.mark.parametrize("nerve, written, site, elements, roots", [
    ("median", "thumb", "digit_1", ["upper_trunk", "lateral_cord"], "C6"),
    ("median", "D1", "digit_1", ["upper_trunk", "lateral_cord"], "C6"),
    ("median", "Index finger", "digit_2", ["upper_trunk", "middle_trunk", "lateral_cord"], "C6|C7"),
    ("median", "digit 2", "digit_2", ["upper_trunk", "middle_trunk", "lateral_cord"], "C6|C7"),
    ("median", "middle finger", "digit_3", ["middle_trunk", "lateral_cord"], "C7"),
    ("median", "D3", "digit_3", ["middle_trunk", "lateral_cord"], "C7"),
    ("ulnar", "little finger", "digit_5", ["lower_trunk", "medial_cord"], "C8"),
])
def test_a_snap_recording_site_names_its_elements_and_roots(nerve, written, site, elements, roots):
    """Guide §2.8: median D1 = C6 / upper trunk, D2 = C6-C7 / upper + middle trunk, D3 = C7 /
    middle trunk, lateral cord throughout; the spellings of the sheet are accepted."""
    anatomy = load_anatomy()
    found = anatomy.sensory_recording_sites(pd.Series([nerve]), pd.Series([written]))
    assert found.tolist() == [site]
    row = anatomy.sensory_sites.loc[(nerve, site)]
    assert row["elements"] == elements and row["roots"] == roots


def test_a_recording_site_of_another_nerve_is_not_recognised():
    found = load_anatomy().sensory_recording_sites(pd.Series(["radial", "median"]),
                                                   pd.Series(["thumb", None]))
    assert found.isna().all()
