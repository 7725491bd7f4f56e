"""Get a run's edge bundle onto a device: `cnn-edge bundle` (a .tar.gz) and `cnn-edge deploy` (over SSH).

Public entry points: `make_bundle(BundleConfig) -> BundleResult`,
`deploy(DeployConfig) -> DeployResult` and, for many devices, `deploy_fleet(FleetConfig) ->
FleetResult`. None imports TensorFlow: the bundle is the run's .tflite files and manifest, and
the workstation's side of the comparison is the edge runtime's own `evaluate`.
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
from cnn_edge.deploy.fleet import FleetConfig, FleetResult, deploy_fleet
from cnn_edge.deploy.gates import Gates

__all__ = [
    "DEFAULT_FORMATS",
    "BundleConfig",
    "BundleFile",
    "BundleResult",
    "DeployConfig",
    "DeployResult",
    "FleetConfig",
    "FleetResult",
    "Gates",
    "deploy",
    "deploy_fleet",
    "make_bundle",
]
