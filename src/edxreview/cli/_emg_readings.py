"""The readings of ``emg analyze`` pooled per subject-muscle (subjects.csv): the MUAP means
and the interference pattern against the lab reference, the lab classifier's columns (also
per recording, for recordings.csv) and the primary reading."""

from __future__ import annotations

from ._emg_provenance import (
    _provisional_flags,
    _provisional_text,
    _source_name,
    _transfer_note,
)


def _recording_classifier(a, reference) -> dict:
    """The lab classifier's reading of one recording read alone (its MUAPs and epochs as a
    subject-muscle of their own, as the evaluation's recording level reads it): columns
    ``clf_pattern``, ``clf_probability`` and ``clf_reasons`` of ``recordings.csv``."""
    import pandas as pd

    muscle = a.muscle or ""
    t, _ = _classifier_columns(pd.DataFrame({"muscle": [muscle], "side": [""]}),
                               {(muscle, ""): [a]}, reference, a.recording.name)
    return {k: t.at[0, k] for k in ("clf_pattern", "clf_probability", "clf_reasons")}


def _subjects_table(analyses, reference, subject: str, sides=None):
    """One row per muscle and side of the subject (``sides``: each analysis' side, ``L``, ``R``
    or ``""``; all ``""`` when not given): the reading of its MUAPs pooled over recordings.
    A left and a right muscle are read apart, as a unilateral lesion is."""
    import numpy as np
    import pandas as pd

    from edxreview.signal._acceptance import count_rejections, format_rejections
    from edxreview.signal._classify import Reading
    from edxreview.signal._interference import read_interference
    from edxreview.signal._reference import (
        LabReference,
        limit_columns,
        read_muscle_against_reference,
    )

    rows = []
    by_muscle: dict[tuple[str, str], list] = {}
    for a, side in zip(analyses, sides if sides is not None else [""] * len(analyses),
                       strict=True):
        by_muscle.setdefault((a.muscle or "", side), []).append(a)
    for (muscle, side), group in by_muscle.items():
        parts = []
        for a in group:
            if len(a.muaps):
                m = a.muaps.copy()
                m.attrs = {}  # averaged waveforms are not needed (and do not concatenate)
                parts.append(m)
        muaps = pd.concat(parts or [pd.DataFrame()], ignore_index=True)
        reading, z = read_muscle_against_reference(muaps, reference, muscle or None)
        bad = [a for a in group if a.reading.rule == "implausible_amplitude"]
        if bad:  # amplitudes in the wrong unit are not pooled into a reading
            reading = Reading("indeterminate", [f"{a.recording.name}: {a.reading.reasons[0]}"
                                                for a in bad], rule="implausible_amplitude")
            z = z.iloc[0:0]
        # rows in = accepted + rejected: the reading and the means use the accepted MUAPs
        rejected = count_rejections(muaps)
        n_rejected = sum(rejected.values())
        row = {"subject": subject, "muscle": muscle, "side": side, "n_recordings": len(group),
               "n_muaps": len(muaps) - n_rejected, "n_muaps_rejected": n_rejected,
               "reject_rules": format_rejections(rejected), "pattern": reading.pattern,
               "rule": reading.rule}
        # the means and the limits for a mean of this many MUAPs, in ms, µV, phases ...
        unit = reference.amplitude_unit if isinstance(reference, LabReference) else "uV"
        row.update(limit_columns(muaps, z, unit))
        # MUAPs with a satellite (measured per MUAP, not judged against the reference)
        row["satellite_pct"] = (round(100.0 * float(muaps["satellite"].astype(float).mean()), 1)
                                if len(muaps) and "satellite" in muaps else float("nan"))
        for f in ("duration_ms", "log_amplitude", "phases", "turns", "thickness_ms", "size_index"):
            row[f"z_{f}"] = round(float(z.at[f, "z"]), 2) if f in z.index else float("nan")
        row["reasons"] = "; ".join(reading.reasons)
        # the second reading: the interference pattern, epochs pooled over the recordings
        ep = [a.interference for a in group if a.interference is not None and len(a.interference)]
        ip_reading, ipz = read_interference(
            pd.concat(ep, ignore_index=True) if ep else pd.DataFrame(), reference, muscle or None)
        row.update(ip_pattern=ip_reading.pattern, ip_rule=ip_reading.rule,
                   z_ip_log_ratio=(round(float(ipz.at["ip_log_ratio", "z"]), 2)
                                   if "ip_log_ratio" in ipz.index else float("nan")),
                   ip_reasons="; ".join(ip_reading.reasons))
        rows.append(row)
    out = pd.DataFrame(rows)
    provisional = np.zeros(len(out), bool)
    if isinstance(reference, LabReference) and (reference.classifier is not None
                                                or reference.classifier_status):
        out, provisional = _classifier_columns(out, by_muscle, reference, subject)
    return _primary_columns(out, provisional)


def _primary_columns(table, provisional):
    """Each subject-muscle's primary reading, typed (``primary_pattern``, ``primary_rule``):
    the lab classifier's class where it read the muscle (rule ``lab_classifier``, or
    ``lab_classifier_provisional`` where ``provisional`` (bool per row, the
    ``provisional`` flag of :func:`._emg_provenance._provisional_flags`: a borrowed
    classifier centred on too few local controls or on a borrowed scale; ``clf_provisional``
    says why in words), otherwise the reading of the pooled MUAP means (``pattern``,
    ``rule``). The interference pattern is never the primary reading (the precedence stated
    in ``emg analyze --help``)."""
    import numpy as np

    from edxreview.signal._classifier import classifier_parameters

    classes = list(classifier_parameters()["classes"])
    clf = table["clf_pattern"] if "clf_pattern" in table else None
    use = clf.isin(classes).to_numpy() if clf is not None else np.zeros(len(table), bool)
    provisional = np.asarray(provisional, dtype=bool)
    return table.assign(
        primary_pattern=np.where(use, clf if clf is not None else "", table["pattern"]),
        primary_rule=np.where(use, np.where(provisional, "lab_classifier_provisional",
                                            "lab_classifier"), table["rule"]))


def _classifier_columns(table, by_muscle: dict, reference, subject: str):
    """The lab classifier's reading of each muscle (its recordings pooled) and of the subject
    (its muscles pooled): columns clf_pattern, clf_probability, clf_p_<class>, clf_reasons and
    clf_subject_pattern, clf_subject_probability (the muscles' class probabilities pooled:
    :func:`~edxreview.signal._classifier.pool_probabilities`), clf_subject_n_read and
    clf_subject_readings (what the muscles read, class by class)."""
    import numpy as np
    import pandas as pd

    from edxreview.signal import _classifier as clf

    model = reference.classifier
    classes = list(clf.classifier_parameters()["classes"])
    if model is None:
        why = reference.classifier_status or "no valid reference"
        return table.assign(clf_pattern="indeterminate", clf_probability=np.nan,
                            **{f"clf_p_{c}": np.nan for c in classes}, clf_reasons=why,
                            clf_subject_pattern="indeterminate", clf_subject_probability=np.nan,
                            clf_subject_n_read=0, clf_subject_readings="",
                            clf_model="", clf_provisional="", clf_n_missing=pd.NA,
                            clf_n_features=pd.NA, clf_missing_groups="",
                            clf_recordings_read=0, clf_recordings_agreeing=0,
                            clf_recordings_readings=""), \
            np.zeros(len(table), bool)
    muaps, epochs, units = [], [], []
    for (muscle, side), group in by_muscle.items():   # keyed by (muscle, side): read apart
        for i, a in enumerate(group):
            name = f"{muscle}#{side}#{i}"
            units.append({"recording": name, "subject": subject, "muscle": muscle or "",
                          "side": side,
                          "record_s": a.recording.samples.size / a.recording.fs_hz})
            if len(a.muaps):
                m = a.muaps.assign(recording=name)
                m.attrs = {}
                muaps.append(m)
            if a.interference is not None and len(a.interference):
                e = a.interference.assign(recording=name)
                e.attrs = {}
                epochs.append(e)
    u = pd.DataFrame(units)
    m_all = (pd.concat(muaps, ignore_index=True) if muaps else
             pd.DataFrame(columns=["recording", "duration_ms", "amplitude_uv", "amplitude_adu",
                                   "phases", "turns", "thickness_ms"]))
    e_all = pd.concat(epochs, ignore_index=True) if epochs else None
    x = clf.unit_features(m_all, e_all, u, key=("subject", "muscle", "side"),
                          features=model.features)
    r = clf.read_units(model, x)
    # each recording read alone by the same model (recordings.csv's clf_pattern), to say how
    # many of a muscle's recordings read what the muscle reads (a muscle of one recording: the
    # same reading)
    alone = r if len(r) == len(u) else clf.read_units(model, clf.unit_features(
        m_all, e_all, u, key=("subject", "muscle", "side", "recording"), features=model.features))
    max_missing = clf.classifier_parameters()["max_missing_fraction_of_group"]
    group_names = {"muap": "MUAP", "interference": "interference-pattern"}
    n_group = {g: sum(clf.feature_group(f) == g for f in model.features) for g in group_names}
    reasons = []
    short = model.transfer.get("short_control_subjects", {})
    for row in r.itertuples():
        if row.rule == "no_standardisation" and row.muscle in short:
            why = (f"no valid reference: {short[row.muscle]} local control subject(s) of muscle "
                   f"{row.muscle!r} to centre the classifier transferred from "
                   f"{_source_name(model.transfer)} on; it needs "
                   f"{model.transfer['min_control_subjects']} ([lab_classifier.transfer] "
                   "min_control_subjects)")
        elif row.rule == "no_standardisation":
            why = (f"no valid reference: the classifier has no standardisation for muscle "
                   f"{row.muscle!r} (muscles: {', '.join(model.muscles())})")
        elif row.rule == "too_many_missing":
            why = (f"not read: no feature group complete enough ({int(row.n_missing)} of "
                   f"{len(model.features)} features missing; a group needs its minimum of "
                   f"MUAPs or epochs and at most {max_missing:.0%} of its features missing, "
                   f"[lab_classifier] max_missing_fraction_of_group; {row.n_muaps} MUAP(s), "
                   f"{row.n_epochs} epoch(s))")
        elif row.rule == "too_few_units":
            why = f"not read: {row.n_muaps} accepted MUAP(s) and {row.n_epochs} epoch(s)"
        else:
            gone = "".join(
                f"; the {n_group[g]} {group_names[g]} features not read ("
                + (f"{row.n_muaps} MUAP(s)" if g == "muap" else f"{row.n_epochs} epoch(s)")
                + ")" for g in str(row.missing_groups).split("; ") if g)
            local = " local" if model.transfer else ""
            how = (f"{_transfer_note(model, row.muscle)} ({len(model.features)} features"
                   if model.transfer else
                   f"({len(model.features)} features against the lab's controls")
            why = (f"lab classifier {how}; {int(row.n_missing)} missing, set to the{local} "
                   f"control mean{gone}): "
                   + ", ".join(f"{c} {getattr(row, c):.2f}" for c in classes))
        reasons.append(why)
    r["clf_reasons"] = reasons
    r["clf_model"] = [_transfer_note(model, m) for m in r["muscle"]]
    read = r[r["pred"].isin(classes)]
    pooled = clf.pool_probabilities(read, read["subject"], classes)
    sp = pooled.iloc[0] if len(pooled) else None
    # what the muscles (and sides) read, beside the pooled class: a muscle read abnormal is a
    # finding of its own whatever the pooled class says
    tally = read["pred"].value_counts()
    readings = ", ".join(f"{c} {int(tally[c])}" for c in classes if c in tally)
    cols = r.set_index(r["muscle"] + "\x1f" + r["side"])   # one row per muscle and side
    out = table.copy()
    key = out["muscle"] + "\x1f" + out["side"]
    out["clf_pattern"] = key.map(cols["pred"]).fillna("indeterminate").to_numpy()
    out["clf_probability"] = key.map(cols["probability"]).round(3).to_numpy()
    for c in classes:
        out[f"clf_p_{c}"] = key.map(cols[c]).round(3).to_numpy()
    out["clf_reasons"] = key.map(cols["clf_reasons"]).fillna(
        "no muscle given: no reference to compare with").to_numpy()
    out["clf_model"] = key.map(cols["clf_model"]).fillna(_transfer_note(model, "")).to_numpy()
    flags = _provisional_flags(model, out["muscle"])
    provisional = (flags["provisional"] & out["clf_pattern"].isin(classes)).to_numpy(bool)
    out["clf_n_missing"] = key.map(cols["n_missing"]).astype("Int64").to_numpy()
    out["clf_n_features"] = len(model.features)
    out["clf_missing_groups"] = key.map(cols["missing_groups"]).fillna("").to_numpy()
    alone = alone[alone["pred"].isin(classes)]
    a_key = alone["muscle"] + "\x1f" + alone["side"]
    agree = alone["pred"].to_numpy() == a_key.map(cols["pred"]).to_numpy()
    out["clf_recordings_read"] = key.map(a_key.value_counts()).fillna(0).astype(int).to_numpy()
    out["clf_recordings_agreeing"] = key.map(pd.Series(agree, index=alone.index).groupby(
        a_key).sum()).fillna(0).astype(int).to_numpy()
    n_by = alone.groupby([a_key, alone["pred"]]).size()
    out["clf_recordings_readings"] = key.map(
        {k: ", ".join(f"{c} {int(n_by[(k, c)])}" for c in classes if (k, c) in n_by.index)
         for k in a_key.unique()}).astype(object).fillna("").to_numpy()
    out["clf_subject_pattern"] = sp["pred"] if sp is not None else "indeterminate"
    out["clf_subject_probability"] = round(float(sp["probability"]), 3) if sp is not None else np.nan
    out["clf_subject_n_read"] = len(read)
    out["clf_subject_readings"] = readings
    # the words last, from the typed flags
    out.insert(out.columns.get_loc("clf_model") + 1, "clf_provisional",
               [_provisional_text(f) if p else ""
                for (_, f), p in zip(flags.iterrows(), provisional)])
    return out, provisional
