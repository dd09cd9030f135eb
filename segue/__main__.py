"""`python -m segue` runs the CLI."""
from segue.cli import app

app()
