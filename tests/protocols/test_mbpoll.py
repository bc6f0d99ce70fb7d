"""mbpoll (a third-party Modbus master, Debian package ``mbpoll``) reads the simulator over TCP and RTU.

The values mbpoll prints are compared with the registers the simulated
PVD-H8K holds: the model code 0x5048 at holding 0 and the model name
"PVD-H8K" from holding 1 (two characters a register, high byte first). An
unmapped register gets mbpoll's "Illegal data address".
"""

import re
import shutil
import subprocess

import pytest

from protocols.sim.simulator import Simulator

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None,
                                reason="mbpoll is not installed (scripts/bootstrap.sh installs it)")

EXPECTED = [0x5048] + [int.from_bytes(b"PVD-H8K\0"[i:i + 2], "big") for i in range(0, 8, 2)]


@pytest.fixture(scope="module")
def rsim():
    sim = Simulator(units=(1,), rtu=True).start()
    yield sim
    sim.stop()


def mbpoll(*args):
    out = subprocess.run(["mbpoll", "-a", "1", "-0", "-1", "-o", "1", *args], capture_output=True, text=True,
                         timeout=20)
    values = {int(a): int(v) for a, v in re.findall(r"^\[(\d+)\]:\s+(-?\d+)", out.stdout, re.M)}
    return out, values


def test_mbpoll_over_tcp(rsim):
    host, port = rsim.tcp_address
    out, values = mbpoll("-m", "tcp", "-p", str(port), "-t", "4", "-r", "0", "-c", "5", host)
    assert out.returncode == 0, out.stderr
    assert [values[i] for i in range(5)] == EXPECTED


def test_mbpoll_over_rtu_on_the_pseudo_terminal(rsim):
    out, values = mbpoll("-m", "rtu", "-b", "9600", "-P", "none", "-t", "4", "-r", "0", "-c", "5", rsim.rtu_path)
    assert out.returncode == 0, out.stderr
    assert [values[i] for i in range(5)] == EXPECTED


def test_mbpoll_is_refused_an_unmapped_register(rsim):
    host, port = rsim.tcp_address
    out, values = mbpoll("-m", "tcp", "-p", str(port), "-t", "4", "-r", "1000", "-c", "2", host)
    assert not values
    assert "Illegal data address" in out.stdout + out.stderr
