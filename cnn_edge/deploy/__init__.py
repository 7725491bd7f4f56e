"""Get a run's edge bundle onto a device: `cnn-edge bundle` (a .tar.gz) and `cnn-edge deploy` (over SSH).

Public entry points: `make_bundle(BundleConfig) -> BundleResult` and
`deploy(DeployConfig) -> DeployResult`. Neither imports TensorFlow: the bundle is the run's
.tflite files and manifest, and the workstation's side of the comparison is the edge runtime's
own `evaluate`.
"""

from cnn_edge.deploy.bundle import make_bundle
from cnn_edge.deploy.config import (
    DEFAULT_FORMATS,
    BundleConfig,
    BundleFile,
    BundleResult,
    DeployConfig,
    DeployResult,
)
from cnn_edge.deploy.deploy import deploy

__all__ = [
    "DEFAULT_FORMATS",
    "BundleConfig",
    "BundleFile",
    "BundleResult",
    "DeployConfig",
    "DeployResult",
    "deploy",
    "make_bundle",
]
