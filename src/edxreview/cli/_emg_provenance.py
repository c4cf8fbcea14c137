"""Where a lab classifier came from, as ``emg analyze`` and ``emg reference build`` say it:
the laboratory's own model, or one borrowed with --classifier-from and the local controls
it is centred on."""

from __future__ import annotations


def _source_name(transfer: dict) -> str:
    """The laboratory a transferred classifier came from, as the user named it (its lab name,
    else its reference file's name)."""
    lab, ref = transfer.get("from_lab", ""), transfer.get("from_reference", "")
    if lab and ref:
        return f"{lab!r} ({ref})"
    return repr(lab or ref or "another laboratory")


def _transfer_note(model, muscle: str) -> str:
    """How a muscle's reading was made: the laboratory's own model, or the borrowed one and the
    local controls it is centred on."""
    t = model.transfer
    if not t:
        return "trained on this laboratory's labelled subjects"
    n = t.get("local_control_subjects", {}).get(muscle)
    if n is None:
        return f"transferred from {_source_name(t)}; no local centre for {muscle!r}"
    return (f"transferred from {_source_name(t)}, centred on {n} local control subject(s)"
            + ("; scale borrowed (mean of the source muscles' SDs)"
               if muscle in t.get("borrowed_scale", []) else ""))


def _provisional_flags(model, muscles):
    """Whether a transferred classifier's reading of each muscle is provisional, typed
    (whole-table): it is centred on fewer local control subjects than a muscle's MUAP means
    are judged against (``[lab_reference] min_judging_control_subjects``), or it borrows its
    scale from other muscles. Such a reading keeps its class, and says so wherever it is the
    answer (:func:`_provisional_text`). The laboratory's own classifier is never provisional.

    Returns
    -------
    pandas.DataFrame
        Index of ``muscles`` (a Series): ``muscle``, ``n_local_control_subjects`` (Int64; NA
        where the model has no local centre for the muscle), ``need``,
        ``few_local_controls``, ``borrowed_scale`` and ``provisional`` (bool).
    """
    import pandas as pd

    from edxreview.signal._params import load_signal_parameters

    t = (model.transfer if model is not None else {}) or {}
    need = int(load_signal_parameters()["lab_reference"]["min_judging_control_subjects"])
    n = muscles.map(t.get("local_control_subjects", {})).astype("Int64")
    few = (n < need).fillna(False).astype(bool)
    borrowed = muscles.isin(t.get("borrowed_scale", []))
    return pd.DataFrame({"muscle": muscles, "n_local_control_subjects": n, "need": need,
                         "few_local_controls": few, "borrowed_scale": borrowed,
                         "provisional": few | borrowed})


def _provisional_text(flags) -> str:
    """Why a reading is provisional, in words ('' when it is not): written from one row of
    :func:`_provisional_flags`."""
    if not flags["provisional"]:
        return ""
    why = []
    if flags["few_local_controls"]:
        why.append(f"centred on {int(flags['n_local_control_subjects'])} local control "
                   f"subject(s), fewer than the {int(flags['need'])} a muscle's MUAP means are "
                   "judged against")
    if flags["borrowed_scale"]:
        why.append("scale borrowed from other muscles")
    return ("provisional: a classifier borrowed from another laboratory, "
            + " and ".join(why) + "; its probability is not calibrated for this laboratory")
