"""Read and validate study workbooks (``.xlsx`` or a folder of CSV/Parquet files)."""

from .._compat import private_names
from ._read import RawWorkbook, read_workbook
from ._template import write_template
from ._validate import Study, validate_workbook


def load_study(path):
    """Read and validate a study workbook in one call.

    Parameters
    ----------
    path : str or Path
        ``.xlsx`` workbook or folder of ``<sheet>.csv`` files.

    Returns
    -------
    Study

    Raises
    ------
    InvalidWorkbookError
        With every problem found.

    Examples
    --------
    >>> import edxreview
    >>> study = edxreview.io.load_study(edxreview.demo_path())
    >>> len(study.tables["patients"]), study.rows["emg"]["used"]
    (59, 452)
    """
    return validate_workbook(read_workbook(path))


__all__ = ['RawWorkbook', 'Study', 'load_study', 'read_workbook', 'validate_workbook',
           'write_template']

# public before 0.2: importable with a DeprecationWarning
__getattr__ = private_names(__name__, {
    'normalize_header': '._read',
    'SHEETS': '._schema',
})
