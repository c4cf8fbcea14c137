"""``edxreview emg analyze``: each recording read and analysed, recordings.csv, muaps.csv,
emg_rows.csv, subjects.csv and the figures written, and the screen lines."""

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
from ._emg_readings import _recording_classifier, _subjects_table
from ._emg_subjects import _subject_mapping


def run(args: argparse.Namespace) -> int:
    """Run ``edxreview emg analyze``; returns the exit status (0 ok, 1 bad input, 2 usage)."""
    from edxreview._errors import InvalidParameterError, OutputPathError
    from edxreview._output import OutputFolder
    from edxreview.signal._classify import check_age

    if getattr(args, "emg_command", "analyze") != "analyze":
        _err(f"unknown emg command {args.emg_command!r}; use 'analyze'.")
        return 2
    if not _options_valid(args):
        return 2
    try:
        check_age(args.age, "--age")
    except InvalidParameterError as exc:
        _err(str(exc))
        return 2
    subjects = getattr(args, "subjects", None)
    if subjects is not None and args.subject is not None:
        _err("give --subject (all files of one subject) or --subjects CSV, not both.")
        return 2
    if (args.subject is not None or subjects is not None) and args.reference in (None, "illustrative"):
        _err(f"{'--subject' if subjects is None else '--subjects'} pools MUAPs against a lab "
             "reference; give --reference FILE.")
        return 2
    unique = _unique_recordings([Path(p) for p in args.paths], args)
    names = _recording_names(unique)   # distinct, or refused before anything is read
    if names is None:
        return 2
    try:
        with OutputFolder(args.out, force=args.force, inputs=_input_files(args),
                          command="emg analyze") as output:
            return _analyze(args, unique, names, output)
    except OutputPathError as exc:
        _err(str(exc))
        return 2


def ungraded_note(rows: list[dict]) -> str:
    """The screen note for emg_rows.csv rows whose fibs or psw are blank ("" when none is).

    ``rows`` are the rows of ``emg_rows.csv`` (``fibs``, ``psw``).
    """
    blank = sum(1 for r in rows if str(r.get("fibs", "")) == "" or str(r.get("psw", "")) == "")
    if not blank:
        return ""
    return (f"emg_rows.csv: fibs/psw are blank in {blank} of {len(rows)} row(s): no recording "
            "of the row had rest fit for grading (spont_basis; spont_not_graded_reason in "
            "recordings.csv says why, e.g. no_rest_recorded: a contraction throughout). The "
            "workbook requires them: fill them in from the clinical examination at rest, never "
            "0 unless the muscle was examined at rest and none were seen.")


def _analyze(args: argparse.Namespace, unique: list[Path], names: list[str], output) -> int:
    """``unique``: the recordings, each once; ``names``: their distinct names."""
    from edxreview._errors import EdxreviewError, InvalidParameterError
    from edxreview.signal._classify import lookup_reference

    reference = None
    if args.reference == "illustrative":
        from edxreview.signal._classify import ILLUSTRATIVE_CAVEAT

        reference = "illustrative"
        # a safety caveat, said once per run whatever -q says
        print(f"edxreview emg: warning: --reference illustrative: {ILLUSTRATIVE_CAVEAT} "
              "(muap_reference.csv, not traced to a printed source).", file=sys.stderr)
        if args.muscle:
            try:
                lookup_reference(args.muscle, args.age)
            except InvalidParameterError as exc:
                _err(str(exc))
                return 2
    elif args.reference is not None:
        from edxreview.signal._reference import read_lab_reference

        try:
            reference = read_lab_reference(args.reference)
        except EdxreviewError as exc:
            _err(str(exc) + _subjects_hint(args.reference))
            return 1
    muscles, file_units = None, None
    if getattr(args, "subjects", None) is not None:
        mapping, code = _subject_mapping(args, unique, names)
        if mapping is None:
            return code
        n_subjects = mapping["subject"].nunique()
        if args.patient is not None and n_subjects > 1:
            _err(f"--patient {args.patient!r} names one patient, but --subjects "
                 f"{args.subjects!r} maps the files to {n_subjects} subjects: leave out "
                 "--patient (emg_rows.csv then takes each subject's id as its patient_id).")
            return 2
        muscles = mapping["muscle"].tolist()
        file_units = mapping[["subject", "side"]].reset_index(drop=True)
    elif args.subject is not None:
        import pandas as pd

        file_units = pd.DataFrame({"subject": args.subject, "side": args.side},
                                  index=range(len(unique)))
    analyses, failures = _analyze_all(args, unique, names, reference, muscles)
    if _refuse_failures(failures):
        return 1
    notes = _reference_notes(args, analyses, reference)
    rows, subjects, emg_rows = _write_analyses(args, analyses, reference, output, notes,
                                               file_units)
    output.commit()
    for a in analyses:  # a wrong gain spoils every amplitude: said whatever -q says
        if a.reading.rule == "implausible_amplitude":
            print(f"edxreview emg: warning: {a.recording.name}: {a.reading.reasons[0]}",
                  file=sys.stderr)
    trained = _trained_unit_warning(reference, file_units)
    if trained:    # a model read on another unit than it was trained on: said whatever -q says
        print(f"edxreview emg: warning: {trained}", file=sys.stderr)
    for msg in dict.fromkeys(n for n in notes if n):  # so is a reference that may not apply
        print(f"edxreview emg: warning: {msg}: the reference may not apply (reference_note in "
              "recordings.csv)", file=sys.stderr)
    if emg_rows:    # said once, whatever -q says: a 0 typed in would read as "examined, clean"
        note = ungraded_note(emg_rows)
        if note:
            print(f"edxreview emg: note: {note}", file=sys.stderr)
    if not args.quiet:
        from edxreview.signal._classifier import classifier_parameters
        from edxreview.signal._spontaneous import describe_spontaneous

        weak = classifier_parameters()["weak_probability"]
        for r in rows:
            clf = ""
            if "clf_pattern" in r:
                p = r["clf_probability"]
                clf = f"; lab classifier {r['clf_pattern']}" + ("" if p != p else f" {p:.2f}")
                clf += " (weak)" if p < weak else ""
            rej = (f", {r['n_muaps_rejected']} rejected ({r['reject_rules']})"
                   if r.get("n_muaps_rejected") else "")
            print(f"{r['file']}: {r['pattern']} ({r['n_units']} units{rej}; rule {r['rule']})"
                  f"{clf}; {describe_spontaneous(r)}")
        for line in _subject_summary(subjects):  # last: each subject-muscle's answer
            print(line)
    return 0


def _trained_unit_warning(reference, file_units) -> str:
    """Why the lab classifier and centroids of ``reference`` may read these pooled recordings
    worse ("" when not): the unit they are read by (``file_units``: by side when it gives
    sides, else both sides pooled) is not the unit the model was trained on (``[recorded]
    trained_per``), in either direction."""
    from edxreview.signal._reference import LabReference

    if not isinstance(reference, LabReference) or file_units is None:
        return ""
    # a classifier trained on recordings has one row per recording whatever the unit (the
    # side only changes the rows' weights); centroids and a classifier trained on pooled
    # subject-muscles (or built before the training unit was recorded) depend on the unit
    models = [name for name, has in (
        ("lab classifier", reference.classifier is not None
         and reference.recorded.get("training_unit") != "recording"),
        ("centroids", reference.centroids is not None)) if has]
    if not models:
        return ""
    what = " and ".join(models)
    were = "was" if models == ["lab classifier"] else "were"
    trained = reference.recorded.get("trained_per", "")
    by_side = file_units["side"].astype(str).ne("").any()
    if not by_side:
        return ("" if trained != "subject-muscle-side" else
                f"the reference's {what} {were} trained per side "
                "(subject-muscle-side), but these recordings are read with both sides pooled: "
                "a model trained on one side's MUAPs and recordings reads a pooled muscle "
                "with other features; give each file's side (a side column in --subjects, "
                "or --side)")
    if trained == "subject-muscle-side":
        return ""
    how = ("trained on subject-muscles, both sides pooled" if trained else
           "not recorded as trained by side (a reference built before this was stored)")
    return (f"the recordings are read by side, but the reference's {what} "
            f"{were} {how}: a model trained on both sides pooled reads one side's fewer MUAPs "
            "and recordings worse; rebuild the reference with a side column in --subjects")


def _subjects_hint(path: str) -> str:
    """' Did you mean --subjects?' when the file given as --reference looks like a table (a
    .csv / .tsv / .txt name, or a first line of delimited names without '='); else ''."""
    p = Path(path)
    try:
        with open(p, encoding="utf-8-sig", errors="replace") as f:
            first = f.readline()
    except OSError:
        first = ""
    table = p.suffix.lower() in (".csv", ".tsv", ".txt") or (
        "=" not in first and any(c in first for c in ",;\t"))
    return (" Did you mean --subjects? (--subjects CSV maps each file to its subject and "
            "muscle)") if table else ""


def _subject_summary(subjects) -> list[str]:
    """The screen's last block, each subject-muscle's answer (``subjects.csv``; none without
    --subject / --subjects): one line per subject-muscle with its recordings and MUAPs, its
    primary reading and where it comes from (the lab classifier's probability, missing
    features and provenance, or the MUAP-means rule), the MUAP-mean and interference readings
    beside it; then, for a subject with several muscles, the classifier's pooled reading."""
    if subjects is None:
        return []
    from edxreview.signal._classifier import classifier_parameters

    weak = classifier_parameters()["weak_probability"]
    has_clf = "clf_pattern" in subjects
    lines = []
    for subj, g in subjects.groupby("subject", sort=False):
        subj = subj if str(subj).isprintable() else repr(subj)
        for r in g.itertuples():
            if str(r.primary_rule).startswith("lab_classifier"):
                source = (f"lab classifier{_classifier_words(r, weak)}{_recordings_words(r)}; "
                          f"MUAP means {r.pattern} (rule {r.rule})")
            else:
                source = f"MUAP means, rule {r.rule}"
                if has_clf:
                    source += f"; lab classifier not read: {r.clf_reasons}"
            side = str(getattr(r, "side", "") or "")
            side = f" {side}" if side in ("L", "R") else ""   # left and right read apart
            lines.append(f"subject {subj}, {r.muscle or 'muscle not given'}{side} "
                         f"({r.n_recordings} recording(s), {r.n_muaps} MUAPs{_rejected(r)}): "
                         "primary reading "
                         f"{r.primary_pattern} ({source}); interference {r.ip_pattern} "
                         f"(rule {r.ip_rule})")
        if has_clf and len(g) > 1:
            what = ("muscle-sides" if "side" in g and g["side"].fillna("").astype(str).isin(
                ["L", "R"]).any() else "muscles")
            lines.append(f"subject {subj}, its {len(g)} {what} pooled: lab classifier "
                         + _pooled_words(g.iloc[0], weak, g["clf_pattern"]))
    return lines


def _rejected(r) -> str:
    """' accepted, N rejected (rule:n; ...)' for a subjects.csv row with rejected MUAPs."""
    n = int(getattr(r, "n_muaps_rejected", 0) or 0)
    return f" accepted, {n} rejected ({r.reject_rules})" if n else ""


def _classifier_words(r, weak: float) -> str:
    """The lab classifier's reading of one subject-muscle after its class: the probability
    (marked when weak), the features set to the control mean, and where the model comes from
    (a borrowed one's centre, and why its reading is provisional)."""
    import pandas as pd

    out = ""
    if not pd.isna(r.clf_probability):
        out += f", probability {r.clf_probability:.2f}" + _weak(r.clf_probability, weak)
    n_miss = getattr(r, "clf_n_missing", None)
    if not pd.isna(n_miss) and n_miss > 0:
        out += f"; {int(n_miss)} of {int(r.clf_n_features)} features missing, set to the control mean"
        gone = str(getattr(r, "clf_missing_groups", "") or "")
        if gone and gone != "nan":
            out += f" (not read: {gone.replace('muap', 'MUAP')} features)"
    provisional = str(getattr(r, "clf_provisional", "") or "")
    model = str(getattr(r, "clf_model", "") or "")
    if provisional:
        out += f"; {provisional} ({model})"
    elif model.startswith("transferred"):
        out += f"; {model}"
    return out


def _recordings_words(r) -> str:
    """How many of a pooled muscle's recordings, each read alone by the lab classifier
    (``clf_pattern`` of recordings.csv), read the muscle's class: the muscle pools their MUAPs
    and epochs, so it may read otherwise than most of them, and the screen says so beside it.
    Empty for a muscle of one recording."""
    import pandas as pd

    n = getattr(r, "clf_recordings_read", None)
    if n is None or pd.isna(n) or int(r.n_recordings) < 2:
        return ""
    if int(n) == 0:
        return "; none of its recordings read alone"
    return (f"; {int(r.clf_recordings_agreeing)} of {int(n)} recordings read alone agree "
            f"({r.clf_recordings_readings})")


def _pooled_words(r, weak: float, patterns) -> str:
    """The subject's pooled classifier reading in words: the class and its probability (the
    muscles' class probabilities multiplied and normalised:
    :func:`~edxreview.signal._classifier.pool_probabilities`), then what the muscles read, so
    that a muscle read abnormal beside normal ones is never hidden by the pooled class
    (``patterns``: the subject's muscles' classes, ``clf_pattern``)."""
    import pandas as pd

    pattern, n_read = r["clf_subject_pattern"], int(r["clf_subject_n_read"])
    if n_read == 0:
        return f"{pattern} (no muscle read)"
    q = r["clf_subject_probability"]
    p = "" if pd.isna(q) else f", probability {q:.2f}" + _weak(q, weak)
    words = f"{pattern}{p} (the muscles' probabilities pooled; {n_read} read: {r['clf_subject_readings']})"
    abnormal = [c for c in ("neurogenic", "myopathic") if c != pattern and patterns.eq(c).any()]
    if abnormal:
        words += (f"; a muscle read {' or '.join(abnormal)} is a finding of its own: see its "
                  "line")
    return words


def _weak(probability: float, weak: float) -> str:
    """The mark of a class probability below ``[lab_classifier] weak_probability``."""
    return f" (weak reading: below {weak:g})" if probability < weak else ""


def _analyze_all(args: argparse.Namespace, unique: list[Path], names: list[str], reference,
                 muscles=None):
    """Each recording read, named by its distinct name (``names``) and analysed (``muscles``:
    each file's muscle, else ``--muscle``); the analyses and the located failures."""
    from edxreview._errors import EdxreviewError, InvalidParameterError, SignalFileError
    from edxreview.signal import analyze_recording, read_signal

    analyses, failures = [], []
    from rich.console import Console
    from rich.progress import Progress

    # on stderr, as the review's bar: stdout holds only the readings (it may be redirected)
    with Progress(console=Console(stderr=True), disable=args.quiet, transient=True) as progress:
        task = progress.add_task("analysing", total=len(unique))
        for i, p in enumerate(unique):
            try:
                rec = read_signal(p, format=args.format, fs_hz=args.fs, gain_adu_per_mv=args.gain,
                                  header_bytes=args.header_bytes)
                rec.name = names[i]
                analyses.append(analyze_recording(rec, muscle=muscles[i] if muscles else args.muscle,
                                                  age_years=args.age,
                                                  sorting=args.sorting, reference=reference))
            except (SignalFileError, InvalidParameterError) as exc:
                failures.append(_located(p, exc))
            except EdxreviewError as exc:
                failures.append(f"{p}: {exc}")
            progress.advance(task)
    return analyses, failures


def _reference_notes(args: argparse.Namespace, analyses, reference) -> list[str]:
    """Per recording, how it differs from the way the lab reference's controls were recorded
    and measured (empty string where it does not, or without a lab reference)."""
    if reference is None or isinstance(reference, str):
        return [""] * len(analyses)
    from edxreview.signal._params import load_signal_parameters
    from edxreview.signal._reference import reference_mismatches

    sorting = args.sorting or load_signal_parameters()["sorting"]["method"]
    return ["; ".join(reference_mismatches(reference, a.recording.fs_hz, sorting))
            for a in analyses]


def _write_analyses(args: argparse.Namespace, analyses, reference, output, notes=None,
                    file_units=None):
    """recordings.csv, muaps.csv, emg_rows.csv, subjects.csv and figures into the staging
    folder; the recordings' rows, the subjects table (None without --subject(s)) and the rows
    of emg_rows.csv as records (empty when it is not written).

    ``file_units``: each analysis' ``subject`` and ``side`` (``L``, ``R`` or ``""``) with
    --subject or --subjects, else None (each file its own unit). emg_rows.csv is written with
    --patient, --subject or --subjects: one row per subject-muscle-side when pooled, else one
    per recording."""
    import pandas as pd

    from edxreview._tables import neutralize_formulas
    from edxreview.signal._muap_columns import withheld_warnings

    tmp = output.staging
    rows, units = [], []
    from edxreview.signal._reference import LabReference

    with_clf = isinstance(reference, LabReference) and reference.classifier is not None
    for a, note in zip(analyses, notes or [""] * len(analyses), strict=True):
        rows.append({**a.recordings_row(), "reference_note": note,
                     **(_recording_classifier(a, reference) if with_clf else {})})
        if len(a.muaps):
            from edxreview.signal._analyze import round_muaps

            u = round_muaps(a.muaps.drop(columns=["onset_ms", "end_ms"]))
            u.insert(0, "file", a.recording.name)
            units.append(u)
        if not args.no_figures:
            from edxreview.signal._figures import plot_recording

            plot_recording(a, tmp / f"{a.recording.name}.png")
    neutralize_formulas(pd.DataFrame(rows)).to_csv(tmp / "recordings.csv", index=False)
    cols = ["file", "unit", "n_discharges", "firing_rate_hz", "duration_ms", "amplitude_uv",
            "amplitude_adu", "amplitude_snr", "phases", "turns", "turn_rule", "area_uv_ms",
            "area_adu_ms", "spike_duration_ms", "thickness_ms", "polyphasic", "satellite",
            "satellite_ms", "rise_time_ms", "template_rms_ratio", "accepted", "reject_rule"]
    neutralize_formulas(pd.concat(units, ignore_index=True) if units else pd.DataFrame(columns=cols)
                        ).to_csv(tmp / "muaps.csv", index=False)
    subjects = None
    if file_units is not None:
        tables = [_subjects_table([analyses[i] for i in g.index], reference, subject,
                                  g["side"].tolist())
                  for subject, g in file_units.groupby("subject", sort=False)]
        subjects = pd.concat(tables, ignore_index=True)
        neutralize_formulas(subjects).to_csv(tmp / "subjects.csv", index=False)
        emg = _pooled_emg_rows(subjects, pd.DataFrame(rows).join(file_units), args.patient)
    elif args.patient is not None:
        emg = pd.DataFrame([{**a.emg_row(args.patient, args.side), "files": a.recording.name}
                            for a in analyses])
    else:
        emg = None
    if emg is not None:
        emg = emg[emg_row_columns()]
        _warn_blank_sides(emg)
        # said whatever -q says: a level left blank would otherwise look like one not measured
        for line in withheld_warnings(emg):
            print(f"edxreview emg: warning: {line}", file=sys.stderr)
        neutralize_formulas(emg).to_csv(tmp / "emg_rows.csv", index=False)
    return rows, subjects, ([] if emg is None else
                            emg.astype(object).where(emg.notna(), "").to_dict("records"))


#: the columns of the workbook's emg sheet that emg_rows.csv fills, in the sheet's order
_EMG_SHEET_COLUMNS = ("patient_id", "muscle", "side", "fibs", "psw", "fasciculations",
                      "muap_amplitude", "muap_duration", "polyphasia", "muap_amplitude_uv",
                      "muap_duration_ms", "polyphasic_pct")


def emg_row_columns() -> list[str]:
    """emg_rows.csv's columns: those of the workbook's ``emg`` sheet it fills, then what each
    row rests on, the sheet's informational columns
    (:data:`~edxreview.io._schema.EMG_ANALYSIS_COLUMNS`), taken from the place the workbook
    reader takes them from, so that it keeps them without a warning. (A function: the
    schema's package loads pandas, and this module is imported at every start.)"""
    from edxreview.io._schema import EMG_ANALYSIS_COLUMNS

    return [*_EMG_SHEET_COLUMNS, *EMG_ANALYSIS_COLUMNS]


def _pooled_emg_rows(subjects, recordings, patient: str | None):
    """emg_rows.csv when recordings are pooled: one row per subject-muscle-side of
    ``subjects`` (subjects.csv), the workbook's one row per muscle examined.

    ``muap_pattern`` / ``muap_rule`` are the subject-muscle's primary reading; the quantitative
    columns its pooled means; the qualitative ones each pooled mean against the lab
    reference's limits for a mean of that many MUAPs (|z| beyond ``z_limit``; amplitude only
    when calibrated; blank where not judged), written only where the primary reading goes
    its way (:func:`~edxreview.signal._muap_columns.decide_muap_columns`:
    ``muap_columns_rule``, ``muap_columns_withheld``). Spontaneous activity: the highest fibrillation
    and PSW grade among the recordings that were graded, fasciculations present if present in
    any graded recording; blank when none of its recordings was graded; ``spont_basis`` says
    in how many recordings and seconds of rest they were graded and why the others were not
    (a single site's grade is not the muscle's examination at rest). ``recordings``: the
    rows of recordings.csv with each file's ``subject`` and ``side``."""
    import numpy as np
    import pandas as pd

    from edxreview.signal._muap_columns import decide_muap_columns
    from edxreview.signal._analyze import spont_basis
    from edxreview.signal._spontaneous import GRADES

    key = ["subject", "muscle", "side"]
    rank = {g: i for i, g in enumerate(GRADES)}
    rec = recordings.assign(
        fibs=recordings["fibs"].map(rank), psw=recordings["psw"].map(rank),
        fasciculations=recordings["fasciculations"].map({"absent": 0, "present": 1}))
    g = rec.groupby(key, sort=False)
    spont = g[["fibs", "psw", "fasciculations"]].max()
    spont["files"] = g["file"].agg("; ".join)
    spont["spont_basis"] = g[["spont_rule", "rest_graded_s", "spont_not_graded_reason"]].apply(
        spont_basis)
    s = subjects.join(spont, on=key)

    def grade(col: str, names) -> pd.Series:
        return s[col].map(lambda v: "" if pd.isna(v) else names[int(v)])

    def level(z: str, judged: pd.Series | None = None) -> np.ndarray:
        v, lim = s[z].astype(float), s["z_limit"].astype(float)
        ok = v.notna() & lim.notna() & (judged if judged is not None else True)
        return np.select([~ok, v > lim, v < -lim], ["", "increased", "decreased"], "normal")

    calibrated = s["geo_mean_amplitude_uv"].notna()
    phases = level("z_phases")
    levels = pd.DataFrame({"muap_amplitude": level("z_log_amplitude", calibrated),
                           "muap_duration": level("z_duration_ms"),
                           "polyphasia": np.where(phases == "decreased", "normal", phases)},
                          index=s.index)
    # written only where the primary reading goes their way (MUAP_COLUMN_RULES): the workbook
    # reads these columns, and an "increased" beside a myopathic reading is denervation there
    decided = decide_muap_columns(levels, s["primary_pattern"])
    out = pd.DataFrame({
        "patient_id": patient if patient is not None else s["subject"],
        "muscle": s["muscle"], "side": s["side"],
        "fibs": grade("fibs", GRADES), "psw": grade("psw", GRADES),
        "fasciculations": grade("fasciculations", ("absent", "present")),
        "muap_amplitude_uv": s["mean_amplitude_uv"], "muap_duration_ms": s["mean_duration_ms"],
        "polyphasic_pct": s["polyphasic_pct"],
        "muap_pattern": s["primary_pattern"], "muap_rule": s["primary_rule"],
        "spont_basis": s["spont_basis"], "files": s["files"]}).join(decided)
    return out[emg_row_columns()]


def _warn_blank_sides(emg) -> None:
    """A warning when emg_rows.csv leaves the side of a limb muscle blank: the workbook
    validator requires L or R there (only midline muscles may leave it blank)."""
    from edxreview.io._schema import BLANK_SIDE_REGIONS
    from edxreview.knowledge import load_anatomy

    region = emg["muscle"].map(load_anatomy().muscles["region"])
    blank = emg[(emg["side"] == "") & (emg["muscle"] != "") & ~region.isin(BLANK_SIDE_REGIONS)]
    if len(blank):
        names = ", ".join(dict.fromkeys(blank["muscle"]))
        print(f"edxreview emg: warning: emg_rows.csv: side blank for {len(blank)} row(s) of a "
              f"limb muscle ({names}); the study workbook needs L or R there: give --side, or a "
              "side column in --subjects.", file=sys.stderr)
