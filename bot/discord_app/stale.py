"""Buttons and forms nobody is listening for any more: a private explanation, never silence.

A moderator's buttons and forms live in memory (they time out, and none survive a restart).
discord.py drops a click or a submission whose custom_id no view or modal claims, so Discord
shows "This interaction failed" and a form's typed text is lost. `MeetingBot` marks each such
interaction as it is dispatched (`mark_unclaimed`, from the client's `LiveComponents`) and
answers it from `on_interaction` (`answer_unclaimed`): a click is told the buttons expired, a
form gets back everything typed in it, as a file, so nothing is lost.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.discord_app.replies import respond

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot

log = logging.getLogger(__name__)

#: `Interaction.extras` key: True when no view, dynamic item or modal claimed the interaction.
UNCLAIMED: Final = "meeting_bot_unclaimed"

EXPIRED_BUTTONS: Final = (
    "These buttons have expired (they last 15 minutes, and none survive a restart of the bot), "
    "so nothing was done. Run the command again."
)
EXPIRED_FORM: Final = (
    "This form expired before it was sent (forms last an hour, and none survive a restart of the "
    "bot), so nothing was saved. Everything you typed is attached as `{file}`: paste it into a "
    "new `/qa add` or `/qa edit`."
)
FORM_FILE: Final = "your-form.txt"
_LABELS: Final = {
    "questions": "Question phrasings",
    "answer": "Answer",
    "excerpts": "Excerpts",
    "speaker": "Speaker",
}


def mark_unclaimed(client: MeetingBot, interaction: discord.Interaction) -> None:
    """Called as discord.py dispatches the interaction, before any handler has run."""
    if interaction.type in (discord.InteractionType.component, discord.InteractionType.modal_submit):
        interaction.extras[UNCLAIMED] = not client.live_components.claims(interaction)


def typed_fields(data: Any) -> list[tuple[str, str]]:
    """(custom_id, value) of every text input in a modal submission, in order."""
    found: list[tuple[str, str]] = []

    def walk(components: Iterable[Any]) -> None:
        for comp in components:
            if not isinstance(comp, dict):
                continue
            if "value" in comp and isinstance(comp.get("custom_id"), str):
                found.append((comp["custom_id"], str(comp["value"])))
            walk(comp.get("components") or [])
            if isinstance(comp.get("component"), dict):
                walk([comp["component"]])

    walk((data or {}).get("components") or [])
    return found


def form_file(fields: Iterable[tuple[str, str]]) -> discord.File:
    """What was typed in a form, field by field, as a text file."""
    parts = [f"== {_LABELS.get(name, name)} ==\n{value}\n" for name, value in fields]
    return discord.File(io.BytesIO("\n".join(parts).encode("utf-8")), filename=FORM_FILE)


async def give_back(interaction: discord.Interaction[Any], text: str, fields: list[tuple[str, str]]) -> None:
    """A private message, with the typed text attached when there is any."""
    file = form_file(fields) if any(value.strip() for _, value in fields) else None
    try:
        await respond(interaction, text, file=file)
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s: %s", interaction.id, exc)


async def answer_unclaimed(interaction: discord.Interaction) -> None:
    """From `on_interaction`: explain an unclaimed click or form, privately."""
    if not interaction.extras.get(UNCLAIMED):
        return
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = data.get("custom_id")
    if interaction.type is discord.InteractionType.modal_submit:
        log.info("form %r expired; its text was given back", custom_id)
        await give_back(interaction, EXPIRED_FORM.format(file=FORM_FILE), typed_fields(interaction.data))
    else:
        log.info("buttons %r expired", custom_id)
        await give_back(interaction, EXPIRED_BUTTONS, [])
