"""WeCom's notifier: active pushes (aibot_send_msg) to a person's single chat with the bot."""

from __future__ import annotations

from bot.channels import WECOM
from bot.channels.wecom.client import WeComClient
from bot.channels.wecom.frames import Target


class WeComNotifier:
    channel = WECOM

    def __init__(self, client: WeComClient):
        self.client = client

    async def send_text(self, external_id: str, text: str) -> None:
        await self.client.push_text(Target(external_id), text)

    async def send_picture(self, external_id: str, data: bytes, filename: str) -> None:
        await self.client.push_media(Target(external_id), "image", data, filename)

    async def send_file(self, external_id: str, data: bytes, filename: str) -> None:
        await self.client.push_media(Target(external_id), "file", data, filename)
