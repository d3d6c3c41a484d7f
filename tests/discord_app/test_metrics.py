"""The metrics and health endpoint, scraped over HTTP while the real bot answers over the fake Discord."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.discord_app.metrics import BotMetrics, MetricsServer
from tests.discord_app.conftest import make_settings, respond, start_live
from tests.discord_app.test_ask import ask

pytestmark = pytest.mark.e2e


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_scraping_counts_questions_latency_and_shards(tmp_path: Path) -> None:
    # A heartbeat every 50 ms, so the shard's gateway latency is known within the test.
    async with start_live(make_settings(tmp_path), heartbeat_interval_ms=50) as live:
        metrics = BotMetrics()
        metrics.watch(live.bot)
        live.assistant.observers.append(metrics)
        server = MetricsServer(live.bot, metrics, "127.0.0.1", 0)
        await server.start()
        try:
            base = f"http://127.0.0.1:{server.port}"
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/metrics") as response:
                    before = samples(await response.text())
                assert before[("meetingbot_questions_total", (("outcome", "answered"),))] == 0

                await respond(live, ask("Who attended the meeting?"))
                await respond(live, ask("What is the capital of Peru?"))
                await respond(live, ask("Where was the meeting held?"))
                for _ in range(100):  # the first heartbeat acknowledgement
                    if live.bot.latencies and live.bot.latencies[0][1] != float("inf"):
                        break
                    await asyncio.sleep(0.02)

                async with http.get(f"{base}/metrics") as response:
                    assert response.status == 200
                    assert response.headers["Content-Type"].startswith("text/plain")
                    after = samples(await response.text())
                async with http.get(f"{base}/health") as response:
                    assert response.status == 200
                    status = await response.json()
        finally:
            await server.stop()

    assert after[("meetingbot_questions_total", (("outcome", "answered"),))] == 2
    assert after[("meetingbot_questions_total", (("outcome", "declined"),))] == 1
    assert after[("meetingbot_answer_seconds_count", ())] == 3
    assert 0 < after[("meetingbot_answer_seconds_sum", ())] < 3
    assert after[("meetingbot_answer_seconds_bucket", (("le", "+Inf"),))] == 3
    assert 0 <= after[("meetingbot_gateway_latency_seconds", (("shard", "0"),))] < 1
    assert after[("meetingbot_guilds", (("shard", "0"),))] == 1
    assert after[("meetingbot_index_reloads_total", ())] == 0
    assert status["status"] == "ok" and status["database"] == "ok" and status["guilds"] == 1
    assert set(status["shards"]) == {"0"}
