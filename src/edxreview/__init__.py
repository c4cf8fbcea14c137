"""edxreview: retrospective review of nerve conduction studies and needle EMG."""

__version__ = "0.1.0"

from ._errors import (  # noqa: E402
    EdxreviewError, InvalidInputError, InvalidParameterError, InvalidWorkbookError, Problem,
)
from ._pipeline import StudyResult, demo_path, review, review_study, write_outputs  # noqa: E402
from ._partition import review_registry  # noqa: E402

__all__ = ["EdxreviewError", "InvalidInputError", "InvalidParameterError", "InvalidWorkbookError",
           "Problem", "StudyResult", "__version__", "demo_path", "review", "review_registry", "review_study",
           "write_outputs"]
