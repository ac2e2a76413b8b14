"""The machine's time zone, resolved once when a feed command starts (SPEC §3 `timezone = "local"`)."""

from __future__ import annotations

import warnings
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local_timezone() -> str | None:
    """The system's IANA zone key, or None when it cannot be told (times are then floating).

    tzlocal reads what each system uses: `$TZ`, `/etc/timezone`, the `/etc/localtime`
    link, systemd's setting, the Windows registry (mapped to an IANA name).
    """
    import tzlocal

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a misconfigured system is "cannot tell", not a warning
            name = tzlocal.get_localzone_name()
        if not name:
            return None
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, LookupError):
        return None
    return name
