"""Read the devices of a fleet from an Ansible INI inventory, so a user's existing file works as it is.

Understood: `[group]` host lines (`NAME [key=value ...]`, `NAME:PORT`, numeric ranges such as
`pi[01:20]`), `[group:vars]`, `[group:children]`, hosts before any section (group `ungrouped`),
comments (`#`, `;`), and the variables ansible_host, ansible_port, ansible_user,
ansible_ssh_private_key_file (and the older ansible_ssh_host/_port/_user), plus cnn_edge_path
(the folder on the device). Other variables are ignored. Variables apply as in Ansible: the
group `all`, then parent groups before their children, then the host's own line.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from cnn_edge.common.errors import ConfigError

SECTION = re.compile(r"\[([^\[\]:\s]+)(?::(vars|children))?\]")
RANGE = re.compile(r"\[(\d+):(\d+)\]")
ALIASES = {
    "ansible_ssh_host": "ansible_host",
    "ansible_ssh_port": "ansible_port",
    "ansible_ssh_user": "ansible_user",
}


@dataclass(frozen=True)
class InventoryHost:
    """One device: its inventory name and how to reach it (None: ssh's own default)."""

    name: str
    address: str | None = None
    port: int | None = None
    user: str | None = None
    key_file: str | None = None
    path: str | None = None

    def ssh_options(self) -> tuple[str, ...]:
        """ssh -o options that point the inventory name at the device, as Ansible would connect."""
        options = []
        for key, value in (
            ("HostName", self.address),
            ("Port", self.port),
            ("User", self.user),
            ("IdentityFile", self.key_file),
        ):
            if value is not None:
                options.append(f"{key}={value}")
        return tuple(options)

    def to(self) -> str:
        """The deploy's --to: the inventory name (reports are named after it) and the folder."""
        return f"{self.name}:{self.path}" if self.path else self.name


@dataclass
class _Inventory:
    hosts: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> its own line's vars
    members: dict[str, list[str]] = field(default_factory=dict)  # group -> hosts
    children: dict[str, list[str]] = field(default_factory=dict)
    group_vars: dict[str, dict[str, str]] = field(default_factory=dict)


def read_inventory(path: Path, limit: str | None = None) -> tuple[InventoryHost, ...]:
    """The hosts of `path` (in file order), only those `limit` selects (see select)."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read inventory {path} ({exc})", hint="pass an Ansible INI inventory to --inventory"
        ) from None
    inv = _parse(text, str(path))
    names = select(inv, limit) if limit else list(inv.hosts)
    if not names:
        raise ConfigError(f"inventory {path} lists no hosts", hint="add host lines under a [group]")
    return tuple(_host(inv, name, str(path)) for name in names)


def _parse(text: str, where: str) -> _Inventory:
    inv = _Inventory()
    group, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        at = f"{where}:{number}"
        if line.startswith("["):
            match = SECTION.fullmatch(line.split("#", 1)[0].strip())
            if match is None:
                raise ConfigError(
                    f"{at}: {line!r} is not a section header",
                    hint="write [group], [group:vars] or [group:children]",
                )
            group, kind = match.group(1), match.group(2) or "hosts"
            inv.members.setdefault(group, [])
            continue
        if kind == "vars":
            key, eq, value = line.partition("=")
            if not eq or not key.strip():
                raise ConfigError(
                    f"{at}: expected key=value in [{group}:vars]", hint="fix or remove the line"
                )
            inv.group_vars.setdefault(group, {})[key.strip()] = _unquote(value.strip())
        elif kind == "children":
            inv.children.setdefault(group, []).append(line.split()[0])
        else:
            _host_line(inv, group, line, at)
    return inv


def _host_line(inv: _Inventory, group: str, line: str, at: str) -> None:
    try:
        words = shlex.split(line, comments=True)
    except ValueError as exc:
        raise ConfigError(f"{at}: cannot read the host line ({exc})", hint="check its quotes") from None
    name, variables = words[0], {}
    for word in words[1:]:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise ConfigError(
                f"{at}: expected key=value after the host name, found {word!r}", hint="fix the line"
            )
        variables[ALIASES.get(key, key)] = value
    if re.fullmatch(r"[^:\[\]]+:\d+", name):  # NAME:PORT (not an IPv6 address)
        name, port = name.rsplit(":", 1)
        variables.setdefault("ansible_port", port)
    for host in _expand(name, at):
        inv.hosts.setdefault(host, {}).update(variables)
        if host not in inv.members.setdefault(group, []):
            inv.members[group].append(host)


def _expand(name: str, at: str) -> list[str]:
    """pi[01:03] -> pi01, pi02, pi03 (one numeric range, zero padding kept)."""
    match = RANGE.search(name)
    if match is None:
        if "[" in name or "]" in name:
            raise ConfigError(
                f"{at}: host pattern {name!r} is not supported", hint="use a numeric range such as pi[01:20]"
            )
        return [name]
    start, end = match.group(1), match.group(2)
    width = len(start) if start.startswith("0") else 0
    if int(end) < int(start):
        raise ConfigError(f"{at}: range [{start}:{end}] ends before it starts", hint="write [low:high]")
    return [
        host
        for n in range(int(start), int(end) + 1)
        for host in _expand(name[: match.start()] + str(n).zfill(width) + name[match.end() :], at)
    ]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _descendants(inv: _Inventory, group: str, seen: set[str] | None = None) -> list[str]:
    """The group and all groups below it (a cycle is cut, not followed forever)."""
    seen = seen if seen is not None else set()
    if group in seen:
        return []
    seen.add(group)
    out = [group]
    for child in inv.children.get(group, []):
        out += _descendants(inv, child, seen)
    return out


def _hosts_of(inv: _Inventory, group: str) -> list[str]:
    if group == "all":
        return list(inv.hosts)
    return list(dict.fromkeys(h for g in _descendants(inv, group) for h in inv.members.get(g, [])))


def select(inv: _Inventory, limit: str) -> list[str]:
    """Ansible's --limit, its common forms: GROUP or HOST, several joined by ',' or ':', '!X' excludes."""
    chosen: list[str] = []
    excluded: set[str] = set()
    for word in filter(None, re.split(r"[,:]", limit)):
        negate, name = word.startswith("!"), word.lstrip("!")
        if name in inv.members or name in inv.children or name == "all":
            hosts = _hosts_of(inv, name)
        elif name in inv.hosts:
            hosts = [name]
        else:
            known = ", ".join(sorted({*inv.members, *inv.children} - {"ungrouped"})) or "none"
            raise ConfigError(
                f"--limit {name!r} is neither a group nor a host of the inventory", hint=f"groups: {known}"
            )
        if negate:
            excluded.update(hosts)
        else:
            chosen += hosts
    if not chosen and excluded:
        chosen = list(inv.hosts)
    return [h for h in dict.fromkeys(chosen) if h not in excluded]


def _depth(inv: _Inventory, group: str, seen: frozenset[str] = frozenset()) -> int:
    """How far below `all` a group sits (its deepest parent chain): parents' vars apply first."""
    parents = [p for p, kids in inv.children.items() if group in kids and p not in seen]
    return 1 + max((_depth(inv, p, seen | {group}) for p in parents), default=0)


def _host(inv: _Inventory, name: str, where: str) -> InventoryHost:
    groups = [g for g in {*inv.members, *inv.children} if name in _hosts_of(inv, g)]
    merged = dict(inv.group_vars.get("all", {}))
    for g in sorted(groups, key=lambda g: (_depth(inv, g), g)):
        merged.update(inv.group_vars.get(g, {}))
    merged.update(inv.hosts[name])
    merged = {ALIASES.get(k, k): v for k, v in merged.items()}
    port = merged.get("ansible_port")
    if port is not None and not port.isdigit():
        raise ConfigError(
            f"{where}: host {name}: ansible_port={port!r} is not a number", hint="fix the inventory"
        )
    return InventoryHost(
        name=name,
        address=merged.get("ansible_host"),
        port=int(port) if port is not None else None,
        user=merged.get("ansible_user"),
        key_file=merged.get("ansible_ssh_private_key_file"),
        path=merged.get("cnn_edge_path"),
    )
