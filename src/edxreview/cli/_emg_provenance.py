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


def _provisional(model, muscle: str) -> str:
    """Why a transferred classifier's reading of ``muscle`` is provisional ('' when it is not):
    it is centred on fewer local control subjects than a muscle's MUAP means are judged against
    (``[lab_reference] min_judging_control_subjects``), or it borrows its scale from other
    muscles. Such a reading keeps its class, and says so wherever it is the answer."""
    from edxreview.signal._params import load_signal_parameters

    t = model.transfer if model is not None else {}
    if not t:
        return ""
    need = int(load_signal_parameters()["lab_reference"]["min_judging_control_subjects"])
    n = t.get("local_control_subjects", {}).get(muscle)
    why = []
    if n is not None and n < need:
        why.append(f"centred on {n} local control subject(s), fewer than the {need} a muscle's "
                   "MUAP means are judged against")
    if muscle in t.get("borrowed_scale", []):
        why.append("scale borrowed from other muscles")
    if not why:
        return ""
    return ("provisional: a classifier borrowed from another laboratory, "
            + " and ".join(why) + "; its probability is not calibrated for this laboratory")
