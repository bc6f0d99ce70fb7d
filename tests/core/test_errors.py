"""One error root: every error PVDesk reports is a PVDeskError, and describe_error is the one line for any."""
from __future__ import annotations

import pytest

from protocols.errors import ModbusTimeout, timeout_hint

from desktop.core.errors import PVDeskError, describe_error
from desktop.diag.bundle import ExportError
from desktop.records.errors import KeyringUnavailable, RecordNotFound, RecordsError
from desktop.records.remote import PreconditionFailed


@pytest.mark.parametrize("exc", [RecordNotFound("r-1"), KeyringUnavailable("no backend"), PreconditionFailed(),
                                 ExportError("nothing has been recorded yet: connect to a device, then export")])
def test_records_and_export_errors_are_pvdesk_errors_with_their_own_line(exc):
    assert isinstance(exc, PVDeskError)
    line = describe_error(exc)
    assert line == str(exc) and "\n" not in line and "--debug" not in line and type(exc).__name__ not in line


def test_describe_error_gives_each_kind_of_failure_one_line_that_fits_it():
    # the hint fits the transport (issue 12): RS-485 advice only where the link is serial
    assert describe_error(ModbusTimeout("unit 1 did not answer", hint=timeout_hint("serial"))) == (
        "unit 1 did not answer (check the unit id, baud rate, parity, wiring (A/B) and bus termination)")
    assert describe_error(ModbusTimeout("unit 1 did not answer")) == (
        "unit 1 did not answer (check the unit id and that the device is on)")
    assert "baud" not in describe_error(ModbusTimeout("unit 1 did not answer", hint=timeout_hint("tcp")))
    assert describe_error(FileNotFoundError(2, "No such file", "/x/pkg.pvfw")) == "file not found: /x/pkg.pvfw"
    serial = describe_error(PermissionError(13, "Permission denied", "/dev/ttyUSB0"))
    assert "dialout" in serial and "/dev/ttyUSB0" in serial
    folder = describe_error(PermissionError(13, "Permission denied", "/srv/out.zip"))
    assert "dialout" not in folder and "/srv/out.zip" in folder   # no RS-485 advice for a file problem
    assert describe_error(ValueError("the unit id must be 1..247")) == "the unit id must be 1..247"
    assert describe_error(KeyError("x")) == "KeyError: 'x'"
    assert describe_error(KeyError("x"), debug_hint=True) == "KeyError: 'x' (run with --debug for details)"


def test_a_records_error_reaches_the_cli_as_its_own_line(capsys, tmp_path, monkeypatch):
    from desktop.cli import main
    monkeypatch.setenv("PVDESK_RECORDS_PASSPHRASE", "a long enough passphrase")
    assert main(["records", "show", "no-such-id", "--data-dir", str(tmp_path / "records")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pvdesk: error: No customer record with id no-such-id")
    assert issubclass(RecordsError, PVDeskError)


#: Exceptions that are not reported to a user, and why.
NOT_REPORTED = {"protocols.sim.device.SimException": "the simulated device's answer (a Modbus exception code), "
                                                     "raised and caught inside the simulator"}


def test_every_exception_pvdesk_defines_is_a_pvdesk_error():
    """Walks every module of protocols, desktop and widgets: a new error class outside the root fails here."""
    import importlib
    import inspect
    import pkgutil

    outside = []
    for package in ("protocols", "desktop", "widgets"):
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            if info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if (inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__
                        and not issubclass(obj, PVDeskError) and f"{module.__name__}.{name}" not in NOT_REPORTED):
                    outside.append(f"{module.__name__}.{name}")
    assert not outside, f"error classes outside PVDeskError: {outside}"
