"""`python -m slogen ...`: the same as the `slogen` command."""

from .cli import main

main(prog_name="slogen")
