"""The quickstart notebook runs from top to bottom without an error (offline, bundled sample).

Needs nbclient, nbformat and ipykernel (the ``test`` extra installs them); skipped with the
reason when one of them cannot be imported.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"


def _require(module: str):
    return pytest.importorskip(
        module, reason=f"{module} is not importable; pip install -e '.[test]'"
    )


def test_notebook_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "the notebook has no code cell"
    dirty = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, (
        f"code cells {dirty} keep outputs: clear them before committing "
        "(jupyter nbconvert --clear-output --inplace notebooks/quickstart.ipynb)"
    )
    assert nb.get("metadata", {}).get("kernelspec", {}).get("name") == "python3"


@pytest.mark.slow
def test_quickstart_notebook_runs(tmp_path):
    nbformat = _require("nbformat")
    nbclient = _require("nbclient")
    _require("ipykernel")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"a cell of {NOTEBOOK.name} failed:\n{exc}")
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, errors
