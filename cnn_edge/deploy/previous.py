"""The device's previous bundle, kept by a switch with `keep_previous`: put it back, or let it go.

A fleet rollout deploys with DeployConfig.keep_previous, so the files a switch replaced stay on
the device (hard links in .cnn-edge-previous, see remote.upload_script). A device whose new
bundle fails its check or a gate is rolled back (`roll_back`); one that passed drops them
(`drop_previous`). Both reach the device the way its deploy did (deploy.session_for).
"""

from __future__ import annotations

from cnn_edge.common.errors import DeployError
from cnn_edge.deploy import remote
from cnn_edge.deploy.bundle import collect_bundle, run_name
from cnn_edge.deploy.config import DeployConfig
from cnn_edge.deploy.deploy import remote_failure, session_for
from cnn_edge.deploy.target import parse_target


def roll_back(cfg: DeployConfig, remote_path: str | None = None) -> dict[str, str]:
    """Restore the bundle the last switch replaced; returns the sha256 of the files in place after.

    remote_path: the folder as the deploy resolved it (None: as cfg.to names it).
    """
    target = parse_target(cfg.to, run_name(cfg.run))
    path = remote_path or target.path
    names = [f.name for f in collect_bundle(cfg.run, cfg.formats)]
    with session_for(cfg, target) as ssh:
        done = ssh.run(remote.rollback_script(path, names))
    where = f"{target.destination}:{path}"
    if done.returncode == remote.NO_PREVIOUS:
        raise DeployError(
            f"{where} has no previous bundle to go back to",
            hint="deploy the run you want there with cnn-edge deploy --to " + cfg.to,
        )
    if done.returncode != 0:
        raise remote_failure(done, where, "rolling back")
    return remote.parse_hashes(done.stdout)


def drop_previous(cfg: DeployConfig, remote_path: str | None = None) -> None:
    """The new bundle passed: remove the previous one kept for a rollback."""
    target = parse_target(cfg.to, run_name(cfg.run))
    with session_for(cfg, target) as ssh:
        done = ssh.run(remote.commit_script(remote_path or target.path))
    if done.returncode != 0:
        raise remote_failure(done, f"{target.destination}:{remote_path or target.path}", "cleaning up")
