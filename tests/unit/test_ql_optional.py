"""Brother QL output needs the optional (GPL-3.0) brother_ql library: without it, a QL
job is refused in one line that says how to install it."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import sys
sys.modules["brother_ql"] = None  # as if the optional extra were not installed
from datetime import date
from kitops.documents.labels import layouts
from kitops.documents.printers import render_ql
from kitops.domain.printers import SIZES
from kitops.errors import Refused
from kitops.services.labels import Label
label = Label(serial="K0000001", sku="KIT-HOME-6W", product="At-home kit",
              expiry=date(2027, 1, 31), course_id=None, course_part=None, patient_ref=None,
              recalled=False, gtin="05060999900083")
try:
    render_ql(layouts([label], SIZES["62"]), "QL-820NWB")
except Refused as refused:
    print(refused)
"""


def test_a_ql_job_without_brother_ql_is_refused_saying_how_to_install_it() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          check=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "pip install 'kitops[ql]'" in done.stdout
    assert "GPL-3.0" in done.stdout
