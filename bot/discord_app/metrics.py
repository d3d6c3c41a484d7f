"""Prometheus metrics of one bot process, and the HTTP endpoint that serves them with /health.

Off unless `BOT_METRICS_PORT` is set. Each process has its own registry and endpoint; a
Prometheus server scrapes every process and sums (the `shard` label tells them apart).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.core.answers import Answer

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot

log = logging.getLogger(__name__)

#: From a quarter of a millisecond (a typical answer) to a second (something is wrong).
LATENCY_BUCKETS = (0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class BotMetrics:
    """The counters the assistant reports into (an `AssistantObserver`), and what `watch` reads
    from a running bot at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "meetingbot_questions",
            "Questions answered or declined by this process",
            ["outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "meetingbot_answer_seconds",
            "Time the answer service took for one question",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        # Both outcomes exist from the start, so a rate over them never starts from "no data".
        for outcome in ("answered", "declined"):
            self.questions.labels(outcome)

    def answered(self, answer: Answer, seconds: float) -> None:
        self.questions.labels("answered" if answer.answered else "declined").inc()
        self.latency.observe(seconds)

    def watch(self, bot: MeetingBot) -> None:
        self.registry.register(_ShardCollector(bot))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _ShardCollector(Collector):
    """Read at scrape time: the heartbeat latency and server count of each shard this process
    runs, and how many times the live-change watcher re-indexed a server."""

    def __init__(self, bot: MeetingBot) -> None:
        self.bot = bot

    def collect(self) -> Iterator[Metric]:
        latency = GaugeMetricFamily(
            "meetingbot_gateway_latency_seconds",
            "Time between a gateway heartbeat and its acknowledgement, per shard",
            labels=["shard"],
        )
        guilds = GaugeMetricFamily("meetingbot_guilds", "Servers on each shard", labels=["shard"])
        counts: dict[int, int] = {}
        for guild in self.bot.guilds:
            counts[guild.shard_id] = counts.get(guild.shard_id, 0) + 1
        for shard_id, seconds in self.bot.latencies:
            if math.isfinite(seconds):  # inf until the first heartbeat is acknowledged
                latency.add_metric([str(shard_id)], seconds)
            guilds.add_metric([str(shard_id)], counts.get(shard_id, 0))
        yield latency
        yield guilds
        yield CounterMetricFamily(
            "meetingbot_index_reloads",
            "Servers re-indexed after a change committed by any process",
            value=self.bot.assistant.live.reloads,
        )


def health(bot: MeetingBot) -> dict[str, object]:
    """A small status: ready or not, each shard's latency, and whether the store can be used."""
    shards = {
        str(shard_id): {"latency_ms": round(seconds * 1000, 1) if math.isfinite(seconds) else None}
        for shard_id, seconds in bot.latencies
    }
    status = "closing" if bot.is_closed() else "ok" if bot.is_ready() else "starting"
    return {
        "status": status,
        "shards": shards,
        "guilds": len(bot.guilds),
        "database": "ok" if bot.assistant.store.available else "unavailable",
    }


class MetricsServer:
    """`/metrics` (Prometheus text format) and `/health` (JSON) on the bot's own event loop."""

    def __init__(self, bot: MeetingBot, metrics: BotMetrics, host: str, port: int) -> None:
        self.bot = bot
        self.metrics = metrics
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        address = self._runner.addresses[0]
        self.port = int(address[1])
        log.info("metrics and health on http://%s:%d/metrics and /health", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text=json.dumps(health(self.bot)), content_type="application/json")
