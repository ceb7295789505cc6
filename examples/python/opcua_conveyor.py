"""OPC UA: a twin mirrors a conveyor served by a real OPC UA server and writes its set-point.

The server (asyncua, from PyPI: ``pip install asyncua``) exposes a ``Conveyor`` object with
the conveyor schema's variables. A client reads them every scan, ingests them into a
``twin.Twin`` as one columnar batch, and when the twin's monitor flags persistent vibration
anomalies it validates a ``set_speed`` command and writes it to the server's
``speed_setpoint`` node, where the simulated drive picks it up.

Run it (after ``pip install ./twin-py asyncua``)::

    python examples/python/opcua_conveyor.py

Nothing here is part of the ``twin`` package: OPC UA is the host's business, and this is
what a host writes in a few lines.
"""

from __future__ import annotations

import asyncio
import math
import random
import socket
from dataclasses import dataclass, field

import numpy as np
from asyncua import Client, Server, ua

import twin

SIGNALS = ("belt_speed", "vibration", "motor_temp", "load", "speed_setpoint")
SCAN_NS = 60 * 1_000_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SimulatedConveyor:
    """A small stand-in for the drive behind the OPC UA server (seeded, deterministic)."""

    seed: int = 7
    speed: float = 2.0
    setpoint: float = 2.0
    step: int = 0
    spikes: tuple = (150, 170, 185)
    nan_at: tuple = ()
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def advance(self) -> dict:
        self.step += 1
        self.speed += (self.setpoint - self.speed) * 0.5
        vib = 1.2 * self.speed / 2.0 + self.rng.gauss(0.0, 0.05)
        if self.step in self.spikes:
            vib += 3.0
        if self.step in self.nan_at:
            vib = float("nan")  # a faulty sensor: the twin refuses and counts it
        load = 0.7 + 0.1 * math.sin(self.step / 50.0)
        return {
            "belt_speed": self.speed,
            "vibration": vib if math.isnan(vib) else max(vib, 0.0),
            "motor_temp": 25.0 + 30.0 * load * self.speed / 2.0,
            "load": load,
            "speed_setpoint": self.setpoint,
        }


@dataclass
class MirrorReport:
    scans: int = 0
    values_read: int = 0
    anomalies: list = field(default_factory=list)
    commands: list = field(default_factory=list)
    refused_commands: int = 0


async def start_server(port: int):
    """An OPC UA server on loopback with a Conveyor object; returns (server, nodes by name)."""
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/twin/")
    idx = await server.register_namespace("urn:twin:conveyor")
    conveyor = await server.nodes.objects.add_object(idx, "Conveyor")
    nodes = {}
    for name in SIGNALS:
        nodes[name] = await conveyor.add_variable(idx, name, ua.Variant(0.0, ua.VariantType.Double))
    await nodes["speed_setpoint"].set_writable()
    return server, nodes


async def mirror(port: int, scans: int, sim: SimulatedConveyor, server_nodes: dict) -> tuple[twin.Twin, MirrorReport]:
    """Run `scans` scans: the server side publishes the drive's values, the client side
    reads them into a twin and writes validated commands back."""
    schema = twin.Schema.conveyor()
    tw = twin.Twin(schema)
    ids = np.array([schema.signal_id(n) for n in SIGNALS], dtype=np.uint32)
    report = MirrorReport()
    async with Client(f"opc.tcp://127.0.0.1:{port}/twin/") as client:
        nodes = [client.get_node(server_nodes[n].nodeid) for n in SIGNALS]
        setpoint_node = client.get_node(server_nodes["speed_setpoint"].nodeid)
        recent: list[int] = []
        for k in range(1, scans + 1):
            # Physical side: the drive moves on and the server publishes its values.
            for name, value in sim.advance().items():
                await server_nodes[name].write_value(ua.Variant(value, ua.VariantType.Double))
            # Client side: one read of every node, one batch into the twin.
            values = np.array(await client.read_values(nodes), dtype=np.float64)
            times = np.full(len(values), k * SCAN_NS, dtype=np.int64)
            tw.ingest_batch(times, ids, values)
            report.scans += 1
            report.values_read += len(values)
            for ins in tw.drain_insights():
                if ins.kind == "anomaly" and ins.signal_name == "vibration":
                    report.anomalies.append(k)
                    recent.append(k)
            # Decision: three vibration anomalies within 50 scans derate the belt by 20%.
            recent = [s for s in recent if k - s < 50]
            if len(recent) >= 3:
                recent.clear()
                target = round(sim.setpoint * 0.8, 3)
                try:
                    tw.command("set_speed", target, time=k * SCAN_NS)
                except twin.TwinError:
                    report.refused_commands += 1
                for cmd in tw.take_commands():
                    await setpoint_node.write_value(ua.Variant(cmd.value, ua.VariantType.Double))
                    report.commands.append((k, cmd.name, cmd.value))
            # The drive follows what was written to its set-point node.
            sim.setpoint = await server_nodes["speed_setpoint"].read_value()
    return tw, report


async def main(scans: int = 300) -> None:
    port = free_port()
    server, nodes = await start_server(port)
    async with server:
        tw, report = await mirror(port, scans, SimulatedConveyor(), nodes)
    c = tw.counters
    print(f"{report.scans} scans, {report.values_read} values read over OPC UA")
    print(f"twin: {c['accepted']} accepted, {c['rejected']} rejected")
    print(f"vibration anomalies at scans {report.anomalies}")
    for k, name, value in report.commands:
        print(f"scan {k}: {name} = {value:.2f} m/s written to the server's speed_setpoint")


if __name__ == "__main__":
    asyncio.run(main())
