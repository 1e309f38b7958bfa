"""The container's HEALTHCHECK: does the bot's /healthz answer "ok"?

The web server (webhooks, /files, /healthz) runs when a channel takes webhooks: WhatsApp,
or Telegram with JAMAAH_PUBLIC_URL and JAMAAH_TELEGRAM_WEBHOOK_SECRET. A bot that only
polls Telegram has none, and is healthy while its process runs.

Exit 0 when healthy, 1 when not (what Docker expects); one line says why.
"""

from __future__ import annotations

import json
import sys
import urllib.request

from bot.core.config import Settings


def main() -> int:
    settings = Settings()
    webhooks = settings.whatsapp_enabled or bool(
        settings.telegram_token and settings.public_url and settings.telegram_webhook_secret
    )
    if not webhooks:
        print("healthy: polling only, no web server to ask")
        return 0
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    url = f"http://{host}:{settings.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.loads(response.read() or b"{}")
    except Exception as error:  # any failure to get "ok" is unhealthy
        print(f"unhealthy: {url}: {error}")
        return 1
    if body.get("ok") is not True:
        print(f"unhealthy: {url} answered {body}")
        return 1
    print(f"healthy: {url} ok, channels {', '.join(body.get('channels', []))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
