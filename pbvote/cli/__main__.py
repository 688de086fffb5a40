"""`python -m pbvote.cli` runs the `pbvote` commands from a checkout that is not installed."""
from pbvote.cli import main

main()
