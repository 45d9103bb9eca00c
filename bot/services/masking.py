"""Personal data in free text: 18-digit ID numbers are masked before storage; phone numbers
are masked in anything shown or exported to roles that may not see them."""

from __future__ import annotations

import re

ID_NUMBER = re.compile(r"(?<![0-9])([1-9]\d{5})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
PHONE = re.compile(r"(?<![0-9])(1[3-9]\d)(\d{4})(\d{4})(?![0-9])")


def mask_ids(text: str) -> tuple[str, int]:
    """Text with every ID number kept only as its region code and last four, and the count."""
    masked, count = ID_NUMBER.subn(lambda m: f"{m.group(1)}********{m.group(3)[-4:]}", text or "")
    return masked, count


def mask_phones(text: str) -> str:
    return PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text or "")


def mask_phone_field(phone: str) -> str:
    phone = (phone or "").strip()
    if len(phone) >= 7:
        return (
            phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
            if len(phone) > 7
            else phone[:3] + "****"
        )
    return "*" * len(phone)
