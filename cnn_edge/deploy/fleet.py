"""`cnn-edge deploy` to many devices: N at a time, canaries first, gates, rollback, one fleet report.

Each device goes through the single-device `deploy` (same copy, staging, sha256 check, switch,
doctor + evaluate), with `keep_previous` so a device whose new bundle fails its check or a gate
is put back on the bundle it had (previous.roll_back). One device failing never stops the
others; only a failing canary stops the rollout, before the other devices are touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_edge.common import limits as lim
from cnn_edge.common.errors import ConfigError
from cnn_edge.deploy.bundle import collect_bundle, run_name
from cnn_edge.deploy.config import DeployConfig
from cnn_edge.deploy.deploy import deploy, workstation_evaluate
from cnn_edge.deploy.gates import Gates, check_gates
from cnn_edge.deploy.inventory import read_inventory
from cnn_edge.deploy.previous import drop_previous, roll_back
from cnn_edge.deploy.target import parse_target

DEFAULT_PARALLEL = 4  # a few at a time: each device also runs an evaluate on this computer's side
OK, FAILED, ROLLED_BACK, ROLLBACK_FAILED, SKIPPED = (
    "ok",
    "failed",
    "rolled back",
    "rollback failed",
    "skipped",
)


@dataclass(frozen=True)
class FleetDevice:
    """One device of the fleet: its name in reports, its --to, and ssh options of its own."""

    name: str
    to: str
    ssh_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class FleetConfig:
    """A rollout of one run to many devices.

    Fields:
        base: the deploy of each device; every field but `to` and `progress` applies to all.
        to: devices as USER@HOST[:PATH] (--to, repeated); added to the inventory's.
        inventory: an Ansible INI inventory (see inventory.py); limit: its --limit pattern.
        parallel: devices deployed at the same time.
        canary: deploy to the first K devices first; if any fails, stop before the others.
        gates: limits on each device's own figures (needs base.check); doctor must say ready.
        progress: called with one line per step and per device (thread-safe callers only).
    """

    base: DeployConfig
    to: tuple[str, ...] = ()
    inventory: Path | None = None
    limit: str | None = None
    parallel: int = DEFAULT_PARALLEL
    canary: int = 0
    gates: Gates = Gates()
    progress: Callable[[str], None] | None = None


@dataclass(frozen=True)
class DeviceOutcome:
    """What happened on one device; `problem` is the one line of what went wrong and what to do."""

    name: str
    to: str
    stage: str  # "canary" or "rollout"
    status: str  # OK, FAILED, ROLLED_BACK, ROLLBACK_FAILED or SKIPPED
    copied: tuple[str, ...] = ()
    bytes_sent: int = 0
    summary: dict[str, Any] | None = None
    gate_failures: tuple[str, ...] = ()
    problem: str | None = None
    report_path: Path | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(copied=list(self.copied), gate_failures=list(self.gate_failures))
        d["report_path"] = str(self.report_path) if self.report_path else None
        return d


@dataclass(frozen=True)
class FleetResult:
    """Every device's outcome, the summary, and where the fleet report was saved."""

    run: Path
    started_at: str
    devices: tuple[DeviceOutcome, ...]
    summary: dict[str, Any]
    settings: dict[str, Any]
    json_path: Path | None = None
    md_path: Path | None = None
    png_path: Path | None = None
    png_note: str | None = None

    @property
    def ok(self) -> bool:
        return all(d.status == OK for d in self.devices)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "run": str(self.run),
            "started_at": self.started_at,
            "settings": self.settings,
            "summary": self.summary,
            "devices": [d.to_dict() for d in self.devices],
            "report": {
                "json": str(self.json_path) if self.json_path else None,
                "md": str(self.md_path) if self.md_path else None,
                "png": str(self.png_path) if self.png_path else None,
                "png_note": self.png_note,
            },
        }


def fleet_devices(cfg: FleetConfig) -> tuple[FleetDevice, ...]:
    """The inventory's devices (limited), then the --to ones, each once."""
    devices = []
    if cfg.inventory is not None:
        hosts = read_inventory(cfg.inventory, cfg.limit)
        devices += [FleetDevice(h.name, h.to(), h.ssh_options()) for h in hosts]
    elif cfg.limit:
        raise ConfigError("--limit selects from an inventory", hint="add --inventory FILE")
    name = run_name(cfg.base.run)
    devices += [FleetDevice(parse_target(to, name).destination, to) for to in cfg.to]
    if not devices:
        raise ConfigError(
            "no device to deploy to", hint="pass --to USER@HOST (repeatable) or --inventory FILE"
        )
    return tuple({d.to: d for d in devices}.values())


def deploy_fleet(cfg: FleetConfig) -> FleetResult:
    """Deploy cfg.base.run to every device; canaries first; save RUN/fleet-TIME.json, .md (and .png)."""
    from cnn_edge.deploy.fleet_report import save_fleet_report, summarize

    _check_config(cfg)
    devices = fleet_devices(cfg)
    say = cfg.progress or (lambda _line: None)
    started = dt.datetime.now(dt.timezone.utc)
    collect_bundle(cfg.base.run, cfg.base.formats)  # a broken run is one error, not one per device
    ws_eval = None
    if cfg.base.check:
        say("measuring the model on this computer once, for every device's side-by-side comparison")
        ws_eval = workstation_evaluate(cfg.base)
    base = dataclasses.replace(cfg.base, keep_previous=cfg.base.check, workstation_evaluate=ws_eval)
    canaries, rest = devices[: cfg.canary], devices[cfg.canary :]
    outcomes = _batch(cfg, base, canaries, "canary", say)
    if any(o.status != OK for o in outcomes):
        say(f"a canary failed: the rollout stops here; {len(rest)} devices keep their current bundle")
        outcomes += [
            DeviceOutcome(
                d.name, d.to, "rollout", SKIPPED, problem="not deployed: a canary failed (see above)"
            )
            for d in rest
        ]
    else:
        outcomes += _batch(cfg, base, rest, "rollout", say)
    result = FleetResult(
        run=cfg.base.run,
        started_at=started.isoformat(timespec="seconds"),
        devices=tuple(outcomes),
        summary=summarize(outcomes),
        settings={
            "parallel": cfg.parallel,
            "canary": cfg.canary,
            "gates": cfg.gates.to_dict(),
            "check": cfg.base.check,
            "eval_limit": cfg.base.eval_limit,
        },
    )
    return save_fleet_report(result, started)


def _check_config(cfg: FleetConfig) -> None:
    lim.check_int("--parallel", cfg.parallel, 1, lim.MAX_PARALLEL)
    lim.check_int("--canary", cfg.canary, 0, lim.MAX_DEVICES)
    lim.check_float("--max-accuracy-loss", cfg.gates.max_accuracy_loss_pp, 0.0, lim.MAX_LOSS_PP)
    lim.check_float("--max-p50-ms", cfg.gates.max_p50_ms, 0.0, lim.MAX_LATENCY_MS, low_open=True)
    if cfg.base.eval_limit is not None and cfg.base.eval_limit < 1:  # as deploy() says, once
        raise ConfigError("--eval-limit must be at least 1")
    gated = cfg.canary or cfg.gates.max_accuracy_loss_pp is not None or cfg.gates.max_p50_ms is not None
    if gated and not cfg.base.check:
        raise ConfigError("--canary and the gates need the on-device check", hint="drop --no-check")


def _batch(
    cfg: FleetConfig,
    base: DeployConfig,
    devices: tuple[FleetDevice, ...],
    stage: str,
    say: Callable[[str], None],
) -> list[DeviceOutcome]:
    """Deploy `devices`, cfg.parallel at a time; each finished device gets its one line at once."""
    if not devices:
        return []

    def one(device: FleetDevice) -> DeviceOutcome:
        outcome = deploy_one(base, device, stage, cfg.gates, say)
        say(outcome_line(outcome))
        return outcome

    pool = ThreadPoolExecutor(max_workers=min(cfg.parallel, len(devices)))
    try:
        return list(pool.map(one, devices))
    finally:
        # On Ctrl-C, start no further device (their ssh, in our process group, stop too).
        pool.shutdown(wait=True, cancel_futures=True)


def deploy_one(
    base: DeployConfig, device: FleetDevice, stage: str, gates: Gates, say: Callable[[str], None]
) -> DeviceOutcome:
    """One device through the single-device deploy, then its gates; rolled back if it fails once switched."""
    switched: list[str] = []
    cfg = dataclasses.replace(
        base,
        to=device.to,
        ssh_options=device.ssh_options + base.ssh_options,  # ssh keeps the first value: the device's own
        progress=lambda line: say(f"[{device.name}] {line}"),
        on_switch=switched.extend,
    )
    started = time.perf_counter()
    outcome = DeviceOutcome(device.name, device.to, stage, FAILED)
    try:
        result = deploy(cfg)
    except Exception as exc:  # noqa: BLE001 - any failure of one device is that device's, never the fleet's
        outcome = dataclasses.replace(outcome, copied=tuple(switched), problem=_one_line(exc))
        if switched:
            outcome = _roll_back(cfg, None, outcome)
        return dataclasses.replace(outcome, seconds=time.perf_counter() - started)
    device_summary = result.report["summary"]["device"] if result.report else None
    failures = tuple(check_gates(device_summary, gates)) if device_summary is not None else ()
    outcome = dataclasses.replace(
        outcome,
        copied=result.copied,
        bytes_sent=result.bytes_sent,
        summary=device_summary,
        gate_failures=failures,
        report_path=result.report_path,
        status=OK if not failures else FAILED,
    )
    if failures and switched:
        outcome = _roll_back(
            cfg,
            result.remote_path,
            dataclasses.replace(outcome, problem="failed the gates: " + "; ".join(failures)),
        )
    elif failures:
        outcome = dataclasses.replace(
            outcome,
            problem="failed the gates: "
            + "; ".join(failures)
            + " (its bundle was already this one: nothing to roll back)",
        )
    elif switched and cfg.keep_previous:
        outcome = _drop_previous(cfg, result.remote_path, outcome)
    return dataclasses.replace(outcome, seconds=time.perf_counter() - started)


def _roll_back(cfg: DeployConfig, remote_path: str | None, outcome: DeviceOutcome) -> DeviceOutcome:
    if not cfg.keep_previous:
        return outcome  # --no-check keeps nothing to go back to (and has no gates)
    try:
        roll_back(cfg, remote_path)
    except Exception as exc:  # noqa: BLE001 - reported on this device's line
        return dataclasses.replace(
            outcome,
            status=ROLLBACK_FAILED,
            problem=f"{outcome.problem}; and the rollback failed: {_one_line(exc)} "
            f"(run the deploy to this device again: it keeps the previous bundle until the new one passes)",
        )
    return dataclasses.replace(
        outcome, status=ROLLED_BACK, problem=f"{outcome.problem}; rolled back to its previous bundle"
    )


def _drop_previous(cfg: DeployConfig, remote_path: str, outcome: DeviceOutcome) -> DeviceOutcome:
    try:
        drop_previous(cfg, remote_path)
    except Exception as exc:  # noqa: BLE001 - the new bundle passed; only the clean-up did not
        return dataclasses.replace(
            outcome, problem=f"passed, but the previous bundle stays on the device: {_one_line(exc)}"
        )
    return outcome


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if text else type(exc).__name__


def outcome_line(o: DeviceOutcome) -> str:
    """The one line a device gets when it is done: its verdict, and what to do when it failed."""
    if o.status == OK:
        copied = f"copied {len(o.copied)} files" if o.copied else "nothing to copy"
        p50 = (o.summary or {}).get("p50_ms")
        figures = f", p50 {p50:.3f} ms" if p50 is not None else ""
        return f"{o.name}: ok ({copied}{figures}, {o.seconds:.1f} s)" + (
            f"; note: {o.problem}" if o.problem else ""
        )
    return f"{o.name}: {o.status.upper()}: {o.problem}"
