"""chipgate's HTTP service: the /v1 JSON API with API keys and roles, and the web dashboard.

    from chipgate.service import create_app
    app = create_app("ledger.sqlite")      # an ASGI application (FastAPI)

Command line: `chipgate serve` and `chipgate keys ...` (see docs/service.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chipgate.service.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # The web framework loads only when an application is asked for, so that the
    # `chipgate` command line (which mounts `serve` and `keys`) starts quickly.
    if name == "create_app":
        from chipgate.service.app import create_app

        return create_app
    raise AttributeError(name)
