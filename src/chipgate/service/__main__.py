"""`python -m chipgate.service serve|keys ...`: the service's commands without the main CLI."""

from chipgate.service.cli import app

app()
