"""What the wheel installs: one top-level package, kitops, with the UI inside it as
kitops.tui, so it cannot clash with another distribution's `tui` in site-packages."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _wheel(source: Path, out: Path) -> Path:
    # hatchling from the test extra, no network: the build backend is the installed one
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "--wheel-dir", str(out), str(source)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (wheel,) = out.glob("kitops-*.whl")
    return wheel


def _wheel_names(source: Path, out: Path) -> list[str]:
    with zipfile.ZipFile(_wheel(source, out)) as archive:
        return archive.namelist()


def _assert_one_package_with_the_ui_inside(names: list[str]) -> None:
    assert {name.split("/")[0] for name in names} == {"kitops", "kitops-0.1.0.dist-info"}
    assert len(names) == len(set(names))
    ui = {name.removeprefix("kitops/tui/") for name in names if name.startswith("kitops/tui/")}
    in_repository = {
        str(path.relative_to(ROOT / "tui"))
        for path in (ROOT / "tui").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert "app.py" in ui
    assert "kitops.tcss" in ui  # the stylesheet travels with the screens
    assert ui == in_repository
    assert "kitops/_migrations/env.py" in names
    # the web pages' templates and static files (htmx, the stylesheet) travel with them
    assert "kitops/web/templates/base.html" in names
    assert "kitops/web/static/htmx.min.js" in names
    assert "kitops/web/static/kitops.css" in names
    # the translations, compiled by the build (hatch_build.py), once each
    for language in ("de", "de_AT"):
        assert f"kitops/locale/{language}/LC_MESSAGES/kitops.mo" in names


def test_the_wheel_ships_the_ui_as_kitops_tui_and_no_top_level_tui(tmp_path):
    _assert_one_package_with_the_ui_inside(_wheel_names(ROOT, tmp_path))


def test_a_wheel_built_from_the_sdist_ships_the_ui_the_same_way(tmp_path):
    """The sdist carries the tui/ folder, not the kitops/tui link to it."""
    hatchling = Path(sys.executable).parent / "hatchling"
    subprocess.run(
        [str(hatchling), "build", "--target", "sdist", "--directory", str(tmp_path / "sdist")],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    (sdist,) = (tmp_path / "sdist").glob("kitops-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    (source,) = (tmp_path / "unpacked").iterdir()
    assert (source / "tui" / "app.py").is_file()
    assert not (source / "kitops" / "tui").exists()
    _assert_one_package_with_the_ui_inside(_wheel_names(source, tmp_path / "wheel"))


def test_the_source_tree_and_the_editable_install_import_the_ui_as_kitops_tui():
    code = "import kitops.tui.app as app; print(app.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    ).stdout.strip()
    assert Path(out).resolve() == ROOT / "tui" / "app.py"


def test_the_wheels_compiled_german_catalog_reads_german(tmp_path):
    """The .mo files are not in the repository: the build compiles them (hatch_build.py),
    and gettext reads a German line from the wheel's."""
    import gettext

    wheel = _wheel(ROOT, tmp_path / "wheel")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "installed")
    german = gettext.translation(
        "kitops", tmp_path / "installed" / "kitops" / "locale", languages=["de_AT"]
    )
    assert german.gettext("{clinic}: locale {locale}") == "{clinic}: Gebietsschema {locale}"
