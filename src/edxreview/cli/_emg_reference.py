"""``edxreview emg reference build``: the control recordings measured, the laboratory's
reference built (with centroids and a lab classifier from labelled subjects, or a classifier
borrowed with --classifier-from), written, and summarised."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._emg_options import (
    _err,
    _input_files,
    _located,
    _options_valid,
    _recording_names,
    _refuse_failures,
    _unique_recordings,
)
from ._emg_provenance import _source_name, _transfer_note
from ._emg_subjects import _subject_mapping


def run_reference_build(args: argparse.Namespace) -> int:
    """Run ``edxreview emg reference build``; returns the exit status (0 ok, 1 bad input, 2 usage)."""
    import pandas as pd

    if not _options_valid(args):
        return 2
    out = Path(args.out)
    code = _check_reference_out(args, out)
    if code:
        return code
    source, code = _borrowed_classifier(args)
    if code:
        return code
    paths = _unique_recordings([Path(p) for p in args.paths], args)
    names = _recording_names(paths)   # distinct: each recording its own rows and MUAPs
    if names is None:
        return 2
    mapping, code = _subject_mapping(args, paths, names)
    if mapping is None:
        return code
    if source is not None and (mapping["truth"] != "normal").any():
        bad = mapping.loc[mapping["truth"] != "normal", ["file", "group"]].head(3)
        _err(f"--classifier-from centres a borrowed classifier on this laboratory's controls, but "
             f"--subjects {args.subjects!r} labels patients ("
             + ", ".join(f"file {f!r}: group {g!r}" for f, g in zip(bad["file"], bad["group"]))
             + "), which would train a local classifier: give only the controls, or leave out "
               "--classifier-from to train this laboratory's own classifier.")
        return 2
    muaps, epochs, failures = _measure_controls(args, paths, mapping)
    if _refuse_failures(failures):
        return 1
    table = pd.concat([m for m in muaps if len(m)] or [pd.DataFrame()], ignore_index=True)
    if table.empty:
        _err("no MUAPs found in the control recordings; nothing written.")
        return 1
    from edxreview.signal._acceptance import accepted_muaps, describe_rejections

    rejected = describe_rejections(table)  # rows in = accepted + rejected with the rule
    if accepted_muaps(table).empty:
        _err(f"no accepted MUAPs in the control recordings ({rejected}); nothing written.")
        return 1
    units = mapping.rename(columns={"file": "recording"})
    units["record_s"] = [m.attrs.get("record_s", float("nan")) for m in muaps]
    ref = _build_reference(args, table, epochs, units)
    lent = _transfer_lab_classifier(ref, source, args, table, epochs, units) if source else ""
    have = set(ref.muscles())
    wanted = sorted(set(mapping["muscle"]))
    if not have and ref.classifier is None:   # a borrowed classifier is worth writing alone
        _err(f"too few usable control recordings for {', '.join(wanted)} (each muscle needs "
             "enough recordings with MUAPs; see emg_signal_parameters.toml [lab_reference]); "
             "nothing written.")
        return 1
    n_ctrl = int((units["truth"] == "normal").sum())
    ref.notes.append(f"built from {n_ctrl} control recording(s)"
                     + (f"; centroids from {len(units)} labelled recording(s)"
                        if ref.centroids is not None else ""))
    if rejected:
        ref.notes.append(rejected + " (emg_signal_parameters.toml [acceptance]); the reference "
                         "holds the accepted ones only")
    if lent:
        ref.notes.append(lent)
    from edxreview.signal._classifier import training_unit

    unit = "-".join(_unit_key(units))
    trained = _trained_per(ref, source, unit)
    if unit != "subject-muscle" and trained == unit:
        clf_how = ("the lab classifier's recordings weighted per" if training_unit() ==
                   "recording" else "lab classifier trained per")
        ref.notes.append(f"centroids trained per {unit} and {clf_how} {unit} (--subjects gave "
                         "sides); the MUAP limits count control subjects")
    from edxreview import __version__
    from edxreview.signal._params import load_signal_parameters, signal_parameters_version

    ref.recorded = {"fs_hz": sorted({m.attrs["fs_hz"] for m in muaps}),
                    "sorting": load_signal_parameters()["sorting"]["method"],
                    "edxreview": __version__, "parameters": signal_parameters_version()}
    if trained:
        ref.recorded["trained_per"] = trained   # the unit analyze should read with this model
    if ref.classifier is not None:   # its training rows: the source's for a borrowed model
        ref.recorded["training_unit"] = (
            str(source.recorded.get("training_unit", "")) if ref.classifier.transfer
            and source is not None else training_unit())
    _write_reference(ref, out, args.force)
    if not args.quiet:
        _print_reference(ref, wanted, have, unit)
        if rejected:
            print(f"MUAPs: {rejected}; the reference holds the accepted ones only")
    return 0


def _write_reference(ref, out: Path, force: bool) -> None:
    """``ref`` written to ``out`` whole or not at all (a link at ``out`` replaced, never
    written through; an existing file only a lab reference, and only with --force)."""
    ref.write_checked(out, force, "--force")


def _check_reference_out(args: argparse.Namespace, out: Path) -> int:
    """The reference file is no input, no folder, and not replaced without --force (2 if so)."""
    from edxreview._errors import OutputPathError
    from edxreview._output import check_output_path

    # the reference file may never be one of the inputs (a recording, however a WFDB record is
    # given: its header, data files and other files; the --subjects table; the borrowed
    # reference), whatever --force says: edxreview never writes over its input
    try:
        check_output_path(out, _input_files(args), kind="file")
    except OutputPathError as exc:
        _err(f"{exc}, e.g. lab-reference.toml.")
        return 2
    from edxreview.signal._reference import refuse_reference_path

    # the check the writing does again (a folder, a pipe, an existing file without --force),
    # here before the controls are measured
    try:
        refuse_reference_path(out, args.force, "--force")
    except OutputPathError as exc:
        _err(f"{exc}.")
        return 2
    return 0


def _measure_controls(args: argparse.Namespace, paths: list[Path], mapping):
    """Each control recording analysed: its MUAPs, its interference epochs, the failures."""
    from edxreview._errors import EdxreviewError
    from edxreview.signal import analyze_recording, read_signal

    muaps, epochs, failures = [], [], []
    for p, (_, row) in zip(paths, mapping.iterrows(), strict=True):
        try:
            rec = read_signal(p, format=args.format, fs_hz=args.fs, gain_adu_per_mv=args.gain,
                              header_bytes=args.header_bytes)
            a = analyze_recording(rec, muscle=row["muscle"])
        except EdxreviewError as exc:
            failures.append(_located(p, exc))
            continue
        if a.reading.rule == "implausible_amplitude":
            print(f"edxreview emg: warning: {p}: {a.reading.reasons[0]}", file=sys.stderr)
        m = a.muaps.assign(recording=row["file"])
        m.attrs = {}  # averaged waveforms are not needed (and do not concatenate)
        m.attrs["record_s"] = rec.samples.size / rec.fs_hz
        m.attrs["fs_hz"] = float(rec.fs_hz)
        muaps.append(m)
        if a.interference is not None and len(a.interference):
            ip = a.interference.assign(recording=row["file"])
            ip.attrs = {}
            epochs.append(ip)
    return muaps, epochs, failures


def _unit_key(units) -> tuple[str, ...]:
    """The unit the centroids and the lab classifier are trained on: the subject-muscle, or
    the subject-muscle-side when --subjects gives sides, the unit 'emg analyze' then reads
    (a model trained on both sides pooled reads one side's fewer MUAPs and recordings worse).
    The MUAP limits count people whatever the key: a control's left and right are one
    person's muscle."""
    return (("subject", "muscle", "side") if "side" in units and units["side"].ne("").any()
            else ("subject", "muscle"))


def _build_reference(args: argparse.Namespace, table, epochs: list, units):
    """The laboratory reference from the controls, with centroids when other groups are labelled."""
    import pandas as pd

    from edxreview.signal._reference import build_lab_reference

    # the reference holds the MUAP features and the interference-pattern ones of the controls
    from edxreview.signal._interference import IP_FEATURES, interference_stats
    from edxreview.signal._params import load_signal_parameters
    from edxreview.signal._reference import recording_stats

    stats = pd.concat([recording_stats(table), interference_stats(
        pd.concat(epochs, ignore_index=True) if epochs else pd.DataFrame())], ignore_index=True)
    feats = [*load_signal_parameters()["lab_reference"]["features"], *IP_FEATURES]
    ref = build_lab_reference(None, units[units["truth"] == "normal"], lab=args.lab,
                              stats=stats, features=feats)
    if (units["truth"] != "normal").any() and ref.muscles():
        from edxreview.signal._reference import fit_centroids, zscore_units

        key = list(_unit_key(units))
        z = zscore_units(table, units, ref, tuple(key)).merge(
            units.drop_duplicates(key)[[*key, "truth"]], on=key)
        cent = fit_centroids(z)
        ref.centroids = cent if len(cent) else None
        _fit_lab_classifier(ref, table, epochs, units)
    return ref


def _fit_lab_classifier(ref, table, epochs: list, units) -> None:
    """The lab classifier of the labelled subjects (section lab_classifier of the parameter
    file), or the reason there is none, stored on ``ref``."""
    import pandas as pd

    from edxreview.signal import _classifier as clf

    ep = pd.concat(epochs, ignore_index=True) if epochs else None
    key = list(_unit_key(units))
    x = clf.training_rows(table, ep, units, tuple(key)).merge(
        units.drop_duplicates(key)[[*key, "truth"]], on=key)
    why = clf.validity(x)
    model = clf.fit_classifier(x) if why is None else None
    ref.classifier = model
    ref.classifier_status = why or ("" if model is not None else "no valid reference")


def _borrowed_classifier(args: argparse.Namespace):
    """The reference named by --classifier-from, checked before any recording is measured:
    ``(reference or None, exit status)``; 1 when it cannot be read, 2 when it holds no
    classifier to borrow, an already transferred one, or one trained on other features than
    this version's parameter file."""
    from edxreview._errors import EdxreviewError
    from edxreview.signal import _classifier as clf
    from edxreview.signal._reference import read_lab_reference

    path = getattr(args, "classifier_from", None)
    if path is None:
        return None, 0
    try:
        src = read_lab_reference(path)
    except EdxreviewError as exc:
        _err(f"--classifier-from: {exc}")
        return None, 1
    model = src.classifier
    if model is None:
        why = f" ({src.classifier_status})" if src.classifier_status else ""
        _err(f"--classifier-from {path!r} holds no lab classifier{why}; give a reference built "
             "with 'emg reference build --subjects' with a group column (normal, neurogenic, "
             "myopathic subjects).")
        return None, 2
    if model.transfer:
        _err(f"--classifier-from {path!r} holds a classifier already transferred from "
             f"{model.transfer.get('from_lab') or model.transfer.get('from_reference')!r}; "
             "borrow it from the reference of the laboratory that trained it.")
        return None, 2
    want = list(clf.classifier_parameters()["features"])
    if list(model.features) != want:
        extra = [f for f in model.features if f not in want]
        lack = [f for f in want if f not in model.features]
        _err(f"--classifier-from {path!r}: its classifier was trained on other features than "
             f"this edxreview's parameter file (emg_signal_parameters.toml [lab_classifier] "
             f"features; {len(model.features)} against {len(want)}"
             + (f"; only in the reference: {extra!r}" if extra else "")
             + (f"; only in the parameter file: {lack!r}" if lack else "")
             + ("; same names, other order" if not extra and not lack else "")
             + "); rebuild that reference with this version.")
        return None, 2
    return src, 0


def _trained_per(ref, source, unit: str) -> str:
    """The unit the model of ``ref`` was trained on ("" when it holds none, or when a borrowed
    model's source did not record it): ``unit`` (this build's) for its own centroids and
    classifier, the source reference's ``trained_per`` for a classifier borrowed with
    ``--classifier-from`` (its coefficients were fitted there; only its centre is local)."""
    if ref.classifier is not None and ref.classifier.transfer and source is not None:
        return str(source.recorded.get("trained_per", ""))
    return unit if (ref.centroids is not None or ref.classifier is not None) else ""


def _transfer_lab_classifier(ref, source, args: argparse.Namespace, table, epochs: list,
                             units) -> str:
    """The classifier of ``source`` re-centred on the control subject-muscles of ``units``
    (:func:`~edxreview.signal._classifier.transfer_classifier`), or the reason there is
    none, stored on ``ref``; returns the note for the reference (empty when none)."""
    import pandas as pd

    from edxreview.signal import _classifier as clf

    model = source.classifier
    ep = pd.concat(epochs, ignore_index=True) if epochs else None
    ctrl = units[units["truth"] == "normal"]
    x = clf.unit_features(table, ep, ctrl, _unit_key(units), features=model.features)
    local = clf.transfer_classifier(model, x, from_lab=source.lab,
                                    from_reference=Path(args.classifier_from).name)
    if isinstance(local, str):
        ref.classifier, ref.classifier_status = None, local
        return ""
    ref.classifier, ref.classifier_status = local, ""
    return (f"lab classifier transferred from {_source_name(local.transfer)}, centred on "
            + ", ".join(f"{m} {n}" for m, n in local.transfer["local_control_subjects"].items())
            + " local control subject(s)")


def _print_reference(ref, wanted: list[str], have: set[str],
                     unit: str = "subject-muscle") -> None:
    """One summary line per muscle (its controls, and its limits for a mean of
    ``[lab_reference] summary_muaps`` MUAPs in ms, µV and phases) and centroid."""
    from edxreview.signal._params import load_signal_parameters
    from edxreview.signal._reference import count_control_subjects

    n = int(load_signal_parameters()["lab_reference"]["summary_muaps"])
    too_few = count_control_subjects(ref, [m for m in wanted if m in have]).set_index(
        "muscle")["too_few"]
    for m in wanted:
        if m in have:
            r = ref.table.loc[(m, "duration_ms")]
            few = "; too few control subjects: 'emg analyze' will not judge against it"
            print(f"{m}: {int(r['n_subjects'])} subject(s), {int(r['n_recordings'])} "
                  f"recordings, {int(r['n_muaps'])} MUAPs; mean duration {r['mean']:.1f} ms"
                  + (few if too_few[m] else ""))
            print(f"  {_limits_line(ref, m, n)}")
        else:
            print(f"{m}: no z-score reference (too few control recordings)")
    if ref.centroids is not None:
        for (m, cls), r in ref.centroids.iterrows():
            print(f"{m}: centroid of {cls} from {int(r['n_units'])} {unit}(s)")
    if ref.classifier is not None and ref.classifier.transfer:
        c, t = ref.classifier, ref.classifier.transfer
        subj = ", ".join(f"{k} {v}" for k, v in c.counts.get("subjects", {}).items())
        print(f"lab classifier: transferred from {_source_name(t)} ({len(c.features)} features, "
              f"trained there on subjects {subj}; penalty C = {c.c:g})")
        for m in c.muscles():
            print(f"  {m}: {_transfer_note(c, m)}")
        for m, n in t.get("short_control_subjects", {}).items():
            print(f"  {m}: no valid reference ({n} local control subject(s), "
                  f"{t['min_control_subjects']} needed)")
    elif ref.classifier is not None:
        c = ref.classifier
        subj = ", ".join(f"{k} {v}" for k, v in c.counts.get("subjects", {}).items())
        print(f"lab classifier: {len(c.features)} features, muscles {', '.join(c.muscles())}; "
              f"trained on subjects {subj}; penalty C = {c.c:g}")
    elif ref.classifier_status:
        print(f"lab classifier: {ref.classifier_status}")


def _limits_line(ref, muscle: str, n: int) -> str:
    """A muscle's limits for a mean of ``n`` MUAPs in native units, e.g. "limits for a mean of
    20 MUAPs (|z| > 2.05): duration 2.1 to 8.1 ms, amplitude 146 to 1473 µV (geometric mean),
    phases 0.48 to 2.90"."""
    from edxreview.signal._reference import limits_for_mean

    lim = limits_for_mean(ref, muscle, n)
    amp = "µV" if ref.amplitude_unit == "uV" else "ADC units"
    parts = []
    for f, label, unit, d in (("duration_ms", "duration", " ms", 1),
                              ("log_amplitude", "amplitude", f" {amp} (geometric mean)", 0),
                              ("phases", "phases", "", 2)):
        if f in lim.index:
            parts.append(f"{label} {lim.at[f, 'lower']:.{d}f} to {lim.at[f, 'upper']:.{d}f}{unit}")
    lim_z = f" (|z| > {float(lim['limit'].iloc[0]):.2f})" if len(lim) else ""
    return f"limits for a mean of {n} MUAPs{lim_z}: " + (", ".join(parts) or "none")
