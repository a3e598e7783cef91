"""Errors and warnings raised by churnlab.

Every error is a :class:`ChurnlabError` and also inherits the nearest builtin,
so ``except ValueError`` keeps working for callers who do not know churnlab.
Messages are plain English: what is wrong, where, and how to fix it.
"""

from __future__ import annotations


class ChurnlabError(Exception):
    """Base class of every error churnlab raises on purpose."""


class DataValidationError(ChurnlabError, ValueError):
    """Input data is malformed: a missing column, unparsable values, an empty file."""


class LeakageError(DataValidationError):
    """A feature table holds columns that encode the target."""


class ConfigError(ChurnlabError, ValueError):
    """A parameter or configuration value is unknown, mistyped or out of range."""


class ReportExecutionError(ChurnlabError, RuntimeError):
    """A notebook failed while the report pipeline was running it."""


class ReportLockedError(ChurnlabError, RuntimeError):
    """Another report run holds the lock on the reports folder."""


class ChurnlabWarning(UserWarning):
    """Base class of churnlab's warnings: a statistical doubt, with its remedy."""


class ConvergenceWarning(ChurnlabWarning):
    """A model fit did not converge; the message says what to try."""


class DataQualityWarning(ChurnlabWarning):
    """The data is usable but suspicious (few repeat buyers, short history, ...)."""


def __getattr__(name: str) -> type:
    """Build :class:`ModelNotFittedError` on first use.

    It inherits scikit-learn's ``NotFittedError`` (so ``except NotFittedError`` works),
    and importing scikit-learn takes seconds: this module stays light, so the
    ``churnlab`` command starts at once.
    """
    if name == "ModelNotFittedError":
        from sklearn.exceptions import NotFittedError

        error = type(
            "ModelNotFittedError",
            (ChurnlabError, NotFittedError),
            {
                "__doc__": "A model method that needs fitted parameters was called before fit.",
                "__module__": __name__,
            },
        )
        globals()[name] = error
        return error
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
