"""The project's own exception types.

Every error a user can cause (a missing file, a corrupt model, an unreadable image, no
camera, a bad option) is raised as a `CnnEdgeError`. Its message is one line that says what
is wrong and what to do; the CLI prints it and exits with `exit_code`, never a traceback.
"""

from __future__ import annotations


class CnnEdgeError(Exception):
    """Base class: a problem the user can fix. `str(err)` is the one line to show."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}. {hint}" if hint else message)


class ConfigError(CnnEdgeError):
    """An option or combination of options that cannot work (epochs < 1, unknown arch, ...)."""

    exit_code = 2


class DataError(CnnEdgeError):
    """A data set, calibration set or sample folder that is missing or not what was expected."""


class ModelError(CnnEdgeError):
    """A model file that is missing, corrupt, or not the shape this toolkit runs."""


class RunDirError(CnnEdgeError):
    """A run directory that would be overwritten, or that lacks what a stage needs."""


class ImageError(CnnEdgeError):
    """An image file that cannot be read or decoded."""


class CameraError(CnnEdgeError):
    """A camera or video source that cannot be opened or read."""


class BackendError(CnnEdgeError):
    """No usable TFLite interpreter (LiteRT / tflite-runtime) or TensorFlow is installed."""


class Interrupted(CnnEdgeError):
    """The user stopped a long job (Ctrl-C or SIGTERM) after its work so far was saved."""

    def __init__(self, message: str, *, exit_code: int = 130, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


class DeployError(CnnEdgeError):
    """A device that cannot be reached, refuses the key, lacks cnn-edge, or has no room for the bundle."""


class ClusterError(CnnEdgeError):
    """A training cluster that cannot form or broke: bad TF_CONFIG, a worker unreachable or gone."""
