"""`pvdesk sim` and `pvdesk simctl`: run the simulated inverter, and steer it.

Runs on the main thread with its own asyncio loop (``sim``) or as a blocking
client (``simctl``).
"""

from __future__ import annotations

import asyncio
import json
import signal


def register(sub) -> None:
    p = sub.add_parser("sim", help="run the simulated hybrid inverter (Modbus TCP and RTU)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5020, help="Modbus TCP port (default 5020; 0 picks one)")
    p.add_argument("--no-tcp", action="store_true", help="do not serve Modbus TCP")
    p.add_argument("--rtu", action="store_true", help="also serve Modbus RTU on a pseudo-terminal")
    p.add_argument("--units", default="1", help="unit ids on the bus, e.g. 1,2,3 (default 1)")
    p.add_argument("--profile", default="pvdesk-hybrid", help="profile to serve (default pvdesk-hybrid)")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--real-time", action="store_true", help="start at the current time instead of late morning")
    p.add_argument("--line-baud", type=int, default=None, help="emulate serial line timing at this baud rate")
    p.add_argument("--control-port", type=int, default=5021,
                   help="JSON control port on 127.0.0.1 (default 5021; 0 picks a free one)")
    p.add_argument("--no-control", action="store_true", help="no control port")
    p.add_argument("--sunspec", action="store_true", help="serve a SunSpec device instead of the reference map")
    p.add_argument("--v5", action="store_true", help="also act as a Solarman V5 Wi-Fi logger")
    p.add_argument("--image", metavar="FILE", default=None,
                   help="replay a corpus image (pvdesk-corpus/1 JSON): a real device's captured registers; "
                        "registers outside it answer exception 02")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.set_defaults(func=run_sim)

    c = sub.add_parser("simctl", help="steer a running simulator: inject faults, drop the link, ...")
    c.add_argument("--control-port", type=int, default=5021)
    c.add_argument("cmd", help="status, inject_fault, clear_faults, drop_link, mute, set_delay, corrupt, "
                               "exception_replies, fast_forward, set_ct_reversed, power_cycle")
    c.add_argument("args", nargs="*", metavar="NAME=VALUE", help="e.g. code=101 or duration_s=5")
    c.set_defaults(func=run_simctl)


def _units(text: str) -> tuple[int, ...]:
    units = tuple(int(u) for u in text.split(",") if u.strip())
    if not units or any(not 1 <= u <= 247 for u in units):
        raise ValueError(f"unit ids must be 1..247, got {text!r}")
    return units


async def _serve(args) -> None:
    from protocols.sim.control import ControlServer  # noqa: PLC0415
    from protocols.sim.simulator import SimOptions, Simulator, demo_start_time  # noqa: PLC0415
    options = SimOptions(profile=args.profile, units=_units(args.units), tcp=not args.no_tcp,
                         tcp_host=args.host, tcp_port=args.port, rtu=args.rtu,
                         start_s=None if args.real_time else demo_start_time(), speed=args.speed,
                         line_baud=args.line_baud)
    options.v5 = bool(args.v5)
    if args.image:
        from protocols.sim.image import load_image  # noqa: PLC0415
        from protocols.sim.replay import image_simulator  # noqa: PLC0415
        image = load_image(args.image)  # ImageError (a ValueError): one line naming file and field
        sim = image_simulator(image, tcp=options.tcp, host=args.host, port=args.port, rtu=args.rtu,
                              v5=options.v5)
        options.units = tuple(image.units)
    elif args.sunspec:
        from protocols.sim.sunspec_device import sunspec_simulator  # noqa: PLC0415
        kw = {k: getattr(options, k) for k in ("tcp", "tcp_host", "tcp_port", "rtu", "start_s", "speed",
                                               "line_baud", "v5")}
        sim = sunspec_simulator(units=options.units, **kw)
    else:
        sim = Simulator(options)
    await sim.serve()
    control = None
    if not args.no_control:
        control = ControlServer(sim, args.control_port)
        await control.start()
    image = getattr(sim, "image", None)
    if image is not None:
        q = image.quirks
        print(f"PVDesk replay of {image.id} ({image.label}, {image.kind} capture, profile {image.profile}), "
              f"units {', '.join(map(str, options.units))}")
        print(f"  Registers  : {sum(len(b.registers) for b in image.blocks)} in {len(image.blocks)} blocks; "
              f"at most {q.max_registers_per_read} a read; gaps {'read as 0' if q.zero_gaps else 'answer 02'}")
    else:
        print(f"PVDesk simulated inverter ({sim.profile.title}), units {', '.join(map(str, options.units))}")
    if sim.tcp:
        print(f"  Modbus TCP : {sim.tcp.host}:{sim.tcp.port}")
    if sim.pty:
        print(f"  Modbus RTU : {sim.pty.path}  (any baud rate, 8N1)")
    if sim.v5:
        print(f"  Solarman V5: {sim.v5_address[0]}:{sim.v5_address[1]}  (logger serial {sim.v5.logger_serial})")
    if control:
        print(f"  Control    : 127.0.0.1:{control.port}  (pvdesk simctl --control-port {control.port} status)")
    print("Press Ctrl-C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        if args.duration:
            await asyncio.wait_for(stop.wait(), args.duration)
        else:
            await stop.wait()
    except asyncio.TimeoutError:
        pass
    finally:
        if control:
            await control.stop()
        await sim.shutdown()


def run_sim(args) -> int:
    asyncio.run(_serve(args))
    return 0


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run_simctl(args) -> int:
    from protocols.sim.control import send  # noqa: PLC0415
    kwargs = {}
    for item in args.args:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"arguments are NAME=VALUE, got {item!r}")
        kwargs[name] = _value(value)
    try:
        answer = send(args.control_port, args.cmd, **kwargs)
    except OSError as exc:
        raise ValueError(f"no simulator control port at 127.0.0.1:{args.control_port} ({exc.strerror or exc})") from None
    if not answer.get("ok"):
        raise ValueError(answer.get("error", "the simulator refused the command"))
    print(json.dumps(answer.get("result"), indent=2, default=str))
    return 0
