"""edxreview: retrospective review of nerve conduction studies and needle EMG.

The public API is :func:`review` (a study workbook in, a :class:`StudyResult` out),
:func:`demo_path` and the exception family below; the subpackages (``edxreview.io``,
``.knowledge``, ``.interpret``, ``.classify``, ``.cohort``, ``.report``, ``.signal``,
``.synth``) each export the steps a user may call on their own in their ``__all__``.
Modules whose names start with an underscore are private.
"""

from typing import TYPE_CHECKING

__version__ = "0.3.0"

from ._compat import lazy_dir, lazy_names  # noqa: E402
from ._errors import (  # noqa: E402
    EdxreviewError, InvalidInputError, InvalidParameterError, InvalidWorkbookError,
    OutputExistsError, OutputPathError, Problem, SignalFileError,
)

if TYPE_CHECKING:
    from ._partition import review_registry
    from ._pipeline import StudyResult, demo_path, review

__all__ = ["EdxreviewError", "InvalidInputError", "InvalidParameterError", "InvalidWorkbookError",
           "OutputExistsError", "OutputPathError", "Problem", "SignalFileError", "StudyResult",
           "__version__", "demo_path", "review", "review_registry"]

# the review's modules are imported on first use (a partition's worker process needs only
# some of them); the names public before 0.2 (use review() and StudyResult.write()) are
# importable with a DeprecationWarning
_LAZY = {"StudyResult": "._pipeline", "demo_path": "._pipeline", "review": "._pipeline",
         "review_registry": "._partition"}
__getattr__ = lazy_names(__name__, _LAZY,
                         {"review_study": "._pipeline", "write_outputs": "._pipeline"})
__dir__ = lazy_dir(__name__, _LAZY)
