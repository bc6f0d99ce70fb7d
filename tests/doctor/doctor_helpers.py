"""Helpers for the doctor tests: free ports, the doctor with test-sized timings, `pvdesk read` in-process."""

from __future__ import annotations

import asyncio
import json
import socket

from protocols.doctor import DoctorOptions, doctor_host, doctor_serial


def free_port(kind=socket.SOCK_STREAM) -> int:
    """A loopback port nobody listens on (bound, then released)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def host_options(sim=None, ports=(), **kw) -> DoctorOptions:
    """Options that keep to loopback test ports: the sim's, plus ``ports`` (refused ones)."""
    tcp_ports = tuple(ports) + ((sim.tcp.port,) if sim is not None and sim.tcp and sim.tcp._server else ())
    base = dict(ports=tcp_ports, only_ports=True, timeout_s=0.3, budget_s=30.0,
                v5_port=sim.v5.port if sim is not None and sim.v5 else free_port(),
                v5_discovery_port=sim.v5.discovery_port if sim is not None and sim.v5 else free_port(socket.SOCK_DGRAM),
                udp_port=sim.udp.port if sim is not None and getattr(sim, "udp", None) else free_port(socket.SOCK_DGRAM))
    base.update(kw)
    return DoctorOptions(**base)


def run_host(options: DoctorOptions, progress=None):
    return asyncio.run(asyncio.wait_for(doctor_host("127.0.0.1", options, progress), 60))


def run_serial(path: str, progress=None, **kw):
    options = DoctorOptions(**dict(dict(timeout_s=0.1, budget_s=40.0), **kw))
    return asyncio.run(asyncio.wait_for(doctor_serial(path, options, progress), 60))


def pvdesk_read(args: list[str], capsys) -> tuple[int, dict | str]:
    """`pvdesk read ARGS --json` in this process: (exit code, the JSON or the error line)."""
    from desktop.cli import main
    code = main(["read", *args, "--json"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else out.err.strip())


def diagnosis(report, cause: str):
    """The diagnosis with ``cause``; AssertionError listing what there is."""
    for d in report.diagnoses:
        if d.cause == cause:
            return d
    raise AssertionError(f"no {cause!r} diagnosis in {[d.cause for d in report.diagnoses]}:\n"
                         + "\n".join(report.log_lines()))
