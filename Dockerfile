# The Q&A bot as a small, non-root image. Data (the SQLite file) lives on the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BOT_DATABASE=/data/bot.sqlite3

WORKDIR /app

# The package carries its curated base (bot/knowledge links to knowledge/), so both go in
# before the install.
COPY pyproject.toml README.md ./
COPY knowledge ./knowledge
COPY bot ./bot
RUN pip install . && rm -rf build *.egg-info
# Refuse to build an image whose knowledge base does not validate.
RUN python -m bot kb validate

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin bot \
    && mkdir -p /data && chown bot:bot /data
VOLUME ["/data"]
USER bot

CMD ["python", "-m", "bot", "run"]
