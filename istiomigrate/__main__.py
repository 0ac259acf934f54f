"""Allow ``python -m istiomigrate``."""

from istiomigrate.cli import main

main()
