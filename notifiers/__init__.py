"""Messages per event and channel, and their delivery through Apprise.

Plain data in, outcome out: this package imports nothing from ``api``.
"""

from notifiers.delivery import Outcome, capture_replies, deliver
from notifiers.messages import CHANNELS, EVENTS, Message, render

__all__ = ["CHANNELS", "EVENTS", "Message", "Outcome", "capture_replies", "deliver", "render"]
