"""Channels: the messengers Lianhu speaks through (Telegram, WeCom), one subpackage each.

A channel does two things and nothing else:
- **inbound**: turns what its messenger delivers into aiogram `Update`s fed to the one shared
  Dispatcher, with `channel` and `external_id` in the workflow data, so the same handlers, the
  same identity lookup (`identities` table) and the same ledger serve every channel;
- **outbound**: a Bot-API-shaped session for replies, and a `Notifier` (see `notifier.py`) for
  what the scheduler pushes (digests, reminders).

`bot/services/` knows no channel: it sees a `ChannelIdentity(channel, external_id)`.
"""

TELEGRAM = "telegram"
WECOM = "wecom"
