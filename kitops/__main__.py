"""``python -m kitops ...``: the same as the ``kitops`` command (handy with ``-X importtime``)."""

from kitops.cli import main

main()
