"""Bot processes for the scale-out tests: `python -m bot run` in subprocesses, over the fake Discord.

Each process logs to a file (read back for its metrics address and for failure reports) and is
asked over its own health and metrics endpoint, as an operator would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.settings import PROJECT_ROOT
from tests.fakediscord import BOT_TOKEN, FakeDiscord

_METRICS_LINE = re.compile(r"metrics and health on http://127\.0\.0\.1:(\d+)/metrics")


@dataclass
class BotProcess:
    """One `python -m bot run` with its own environment; `start` again after a kill restarts it."""

    name: str
    fake: FakeDiscord
    env: dict[str, str]
    log_dir: Path
    process: asyncio.subprocess.Process | None = None
    port: int = 0
    starts: int = 0
    logs: list[Path] = field(default_factory=list)

    async def start(self) -> None:
        self.starts += 1
        log = self.log_dir / f"{self.name}-{self.starts}.log"
        self.logs.append(log)
        env = {
            **os.environ,
            "DISCORD_TOKEN": BOT_TOKEN,
            "BOT_LOG_LEVEL": "INFO",
            "BOT_METRICS_PORT": "0",
            "BOT_METRICS_HOST": "127.0.0.1",
            **self.env,
        }
        with log.open("wb") as sink:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.fakediscord.launch",
                f"http://127.0.0.1:{self.fake.port}",
                "run",
                cwd=PROJECT_ROOT,
                env=env,
                stdout=sink,
                stderr=sink,
            )
        self.port = await self._metrics_port(log)

    async def _metrics_port(self, log: Path, within: float = 60.0) -> int:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            text = await asyncio.to_thread(log.read_text, encoding="utf-8", errors="replace")
            found = _METRICS_LINE.search(text)
            if found:
                return int(found[1])
            if self.process is not None and self.process.returncode is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_text()}")
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} never served metrics:\n{self.log_text()}")

    def log_text(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-6000:]}" for p in self.logs)

    async def get(self, path: str) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{self.port}{path}") as response,
        ):
            return response.status, await response.text()

    async def wait_ready(self, within: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            status, body = await self.get("/health")
            assert status == 200
            health: dict[str, Any] = json.loads(body)
            if health["status"] == "ok":
                return health
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not ready:\n{self.log_text()}")

    async def metric(self, name: str, **labels: str) -> float:
        _, text = await self.get("/metrics")
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return float(sample.value)
        raise AssertionError(f"{self.name} has no {name}{labels}")

    async def kill(self) -> None:
        """SIGKILL: no clean shutdown, nothing flushed that was not already committed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@contextlib.asynccontextmanager
async def bot_processes(*processes: BotProcess) -> AsyncIterator[tuple[BotProcess, ...]]:
    """Start them in order (each serving its endpoint before the next starts); stop all on exit."""
    try:
        for process in processes:
            await process.start()
        yield processes
    finally:
        await asyncio.gather(*(p.stop() for p in processes), return_exceptions=True)
