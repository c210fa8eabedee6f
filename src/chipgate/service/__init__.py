"""chipgate's HTTP service: the /v1 JSON API with API keys and roles, and the web dashboard.

    from chipgate.service import create_app
    app = create_app("ledger.sqlite")      # an ASGI application (FastAPI)

Command line: `chipgate serve` and `chipgate keys ...` (see docs/service.md).
"""

from chipgate.service.app import create_app

__all__ = ["create_app"]
