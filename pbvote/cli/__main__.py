"""`python -m pbvote.cli` runs the same commands as the `pbvote` script (for checkouts not installed)."""
from pbvote.cli import main

main()
