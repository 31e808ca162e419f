"""The wheel's build step that compiles the translations: every
``kitops/locale/*/LC_MESSAGES/kitops.po`` (the catalogs translators edit) becomes the
``kitops.mo`` that ``kitops.i18n`` reads, compiled with Babel into the wheel.

The ``.mo`` files are build output, never committed (``make catalogs`` compiles them for
the source tree and the editable install). Hatchling finds this hook through
``[tool.hatch.build.hooks.custom]`` in pyproject.toml.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CATALOGS = "kitops/locale/*/LC_MESSAGES/kitops.po"


def compile_catalog(po: Path, mo: Path) -> None:
    """``po`` compiled to ``mo``: the translated messages, fuzzy ones left out (as
    ``pybabel compile`` does without ``--use-fuzzy``)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalog = read_po(source)
    mo.parent.mkdir(parents=True, exist_ok=True)
    with mo.open("wb") as target:
        write_mo(target, catalog, use_fuzzy=False)


class CatalogsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # the wheel only: an sdist carries the .po files, an editable install reads the
        # source tree's (make catalogs)
        if self.target_name != "wheel" or version == "editable":
            return
        self._out = Path(tempfile.mkdtemp(prefix="kitops-catalogs-"))
        root = Path(self.root)
        for po in sorted(root.glob(CATALOGS)):
            inside = po.relative_to(root).with_suffix(".mo").as_posix()
            mo = self._out / inside
            compile_catalog(po, mo)
            build_data["force_include"][str(mo)] = inside

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        out = getattr(self, "_out", None)
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
