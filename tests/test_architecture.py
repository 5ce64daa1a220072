"""The layering of docs/ARCHITECTURE.md holds, and the import-linter contracts really bite.

``lint-imports`` runs on the tree as it is (it must pass), then on copies of the app code with
one forbidden import planted: each copy must fail, naming the contract and the import.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The console script of the interpreter running the tests (no PATH lookup).
LINT = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"]


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LINT, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def _copy(tmp_path: Path) -> Path:
    """The app code, the contracts and the config (no data, docs or node_modules)."""
    dest = tmp_path / "tree"
    dest.mkdir()
    for path in ROOT.iterdir():
        if path.suffix == ".py" or path.name == "pyproject.toml":
            shutil.copy2(path, dest / path.name)
        elif path.is_dir() and (path / "__init__.py").is_file():
            shutil.copytree(path, dest / path.name, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "tests").mkdir()
    shutil.copy2(ROOT / "tests" / "import_contracts.py", dest / "tests" / "import_contracts.py")
    return dest


def _plant(tree: Path, relative: str, line: str) -> None:
    path = tree / relative
    text = path.read_text("utf-8")
    marker = "from __future__ import annotations\n"
    assert marker in text
    path.write_text(text.replace(marker, marker + "\n" + line + "\n", 1), "utf-8")


def test_the_tree_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("relative", "line", "contract"),
    [
        ("views/videos.py", "import providers  # noqa", "Pages call services only"),
        ("views/videos.py", "from storage import get_storage  # noqa", "Pages call services only"),
        ("services/credits.py", "import views.videos  # noqa", "One direction"),
        ("providers/base.py", "import services.jobs  # noqa", "One direction"),
        ("errors.py", "import cli  # noqa", "One direction"),  # a top-level module, too
        ("storage/base.py", "import streamlit  # noqa", "Only the app, the pages and the theme"),
        ("health_monitor.py", "import streamlit  # noqa", "Only the app, the pages and the theme"),
        ("services/credits.py", "import services.jobs  # noqa", "No import cycles"),
    ],
)
def test_a_planted_import_breaks_its_contract(
    tmp_path: Path, relative: str, line: str, contract: str
) -> None:
    tree = _copy(tmp_path)
    _plant(tree, relative, line)
    result = _lint(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
    assert relative.removesuffix(".py").replace("/", ".") in broken
