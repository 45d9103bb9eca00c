"""WeCom (企业微信) through the 智能机器人 long connection: no public URL, no domain filing.

frames.py (the documented frames) → connection.py (subscribe, heartbeat, reconnect, acks) →
client.py (respond, push, upload) → session.py (Bot API calls of the handlers as frames) and
transport.py (callbacks as aiogram Updates for the shared Dispatcher); notifier.py for the
scheduler.
"""
