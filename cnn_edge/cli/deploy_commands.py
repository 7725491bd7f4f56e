"""Getting a run onto devices: `deploy` (over SSH) and `bundle` (a .tar.gz)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cnn_edge.cli import render
from cnn_edge.cli.running import given, user_errors


def deploy(
    run: Annotated[Path, typer.Option(help="The converted run to deploy (manifest.json and .tflite files)")],
    to: Annotated[
        list[str] | None,
        typer.Option(help="USER@HOST[:PATH] or an ~/.ssh/config alias [PATH: ~/cnn-edge/RUN_NAME]; "
                     "repeat for a fleet"),
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", metavar="FORMAT", help="Models to copy (default: float32, int8)"),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Run doctor and evaluate on the device after the copy")
    ] = True,
    ssh_config: Annotated[Path | None, typer.Option(help="ssh_config file to use (ssh -F)")] = None,
    ssh_option: Annotated[
        list[str] | None,
        typer.Option("--ssh-option", "-o", metavar="KEY=VALUE", help="Extra ssh option, repeatable"),
    ] = None,
    accept_new_host_key: Annotated[
        bool, typer.Option("--accept-new-host-key", help="Trust a first-seen host key (a changed one never)")
    ] = False,
    remote_cnn_edge: Annotated[
        str | None,
        typer.Option(help="cnn-edge on the device (default: on PATH, in ~/.local/bin, ~/cnn-edge-venv/bin)"),
    ] = None,
    eval_limit: Annotated[
        int | None, typer.Option(help="Evaluate on the first N images on both sides (default: all 10,000)")
    ] = None,
    eval_runs: Annotated[int, typer.Option(help="Timed single-image invokes for the latency figures")] = 200,
    camera: Annotated[
        str | None, typer.Option(help="Also check this camera on the device (index or picamera2)")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the result and report as one JSON object")
    ] = False,
    inventory: Annotated[Path | None, typer.Option(help="Fleet: an Ansible INI inventory of devices")] = None,
    limit: Annotated[str | None, typer.Option(help="Fleet: only these inventory groups or hosts")] = None,
    parallel: Annotated[int, typer.Option(help="Fleet: devices deployed at the same time")] = 4,
    canary: Annotated[int, typer.Option(help="Fleet: deploy to K devices first; stop if one fails")] = 0,
    max_accuracy_loss: Annotated[
        float | None, typer.Option(help="Fleet gate: roll a device back if its loss exceeds PP")
    ] = None,
    max_p50_ms: Annotated[
        float | None, typer.Option(help="Fleet gate: roll a device back if its p50 exceeds MS")
    ] = None,
) -> None:
    """Copy a run's edge bundle to a device (or a fleet) over SSH, verify it, and measure it there."""
    from cnn_edge.deploy import DeployConfig
    from cnn_edge.deploy import deploy as run_deploy

    cfg = DeployConfig(
        run=run, to=(to or [""])[0], check=check, ssh_config=ssh_config, ssh_options=tuple(ssh_option or ()),
        accept_new_host_key=accept_new_host_key, remote_cnn_edge=remote_cnn_edge, eval_limit=eval_limit,
        eval_runs=eval_runs, camera=camera, progress=render.err,
        **given(formats=tuple(formats) if formats else None),
    )
    gated = canary or max_accuracy_loss is not None or max_p50_ms is not None
    if len(to or []) != 1 or inventory or limit or gated:
        from cnn_edge.deploy.fleet import FleetConfig, deploy_fleet
        from cnn_edge.deploy.gates import Gates

        fleet_cfg = FleetConfig(base=cfg, to=tuple(to or ()), inventory=inventory, limit=limit,
                                parallel=parallel, canary=canary, gates=Gates(max_accuracy_loss, max_p50_ms),
                                progress=render.err)
        with user_errors():
            fleet = deploy_fleet(fleet_cfg)
        render.json_line(fleet.to_dict()) if json_out else render.fleet_result(fleet)
        raise typer.Exit(0 if fleet.ok else 1)
    with user_errors():
        result = run_deploy(cfg)
    if json_out:
        render.json_line(result.to_dict())
    else:
        render.deploy_result(result)


def bundle(
    run: Annotated[Path, typer.Option(help="The converted run to pack (manifest.json and .tflite files)")],
    out: Annotated[Path, typer.Option(help="The .tar.gz to write")],
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", metavar="FORMAT", help="Models to include (default: float32, int8)"),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object")] = False,
) -> None:
    """Pack a run's edge bundle (models, manifest, README, SHA256SUMS) as a .tar.gz for any device."""
    from cnn_edge.deploy import BundleConfig, make_bundle

    cfg = BundleConfig(run=run, out=out, **given(formats=tuple(formats) if formats else None))
    with user_errors():
        result = make_bundle(cfg)
    if json_out:
        render.json_line(result.to_dict())
    else:
        render.bundle_result(result)
