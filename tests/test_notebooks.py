"""Jupyter notebooks: scanned, diffed and fixed cell by cell; everything but the code is kept."""

import json
import shutil

from conftest import FIXTURES

NOTEBOOK = FIXTURES / "notebooks" / "tutorial.ipynb"


def test_scan_points_at_cells(run_cli, tmp_path):
    shutil.copy(NOTEBOOK, tmp_path / "tutorial.ipynb")
    data = json.loads(run_cli("scan", ".", "--output-format", "json").stdout)
    found = {(f["path"], f["line"], f["code"]) for f in data["findings"]}
    assert ("tutorial.ipynb:cell 2", 3, "OAI201") in found
    assert ("tutorial.ipynb:cell 3", 1, "OAI101") in found
    assert ("tutorial.ipynb:cell 3", 2, "OAI501") in found
    assert ("tutorial.ipynb:cell 5", 2, "HF201") in found
    assert not any("cell 4" in f["path"] for f in data["findings"])  # the %%bash cell is not Python


def test_apply_keeps_outputs_metadata_ids_magics_and_format(run_cli, tmp_path):
    path = tmp_path / "tutorial.ipynb"
    shutil.copy(NOTEBOOK, path)
    before = json.loads(path.read_text())
    proc = run_cli("apply", "tutorial.ipynb")
    assert proc.returncode == 1  # HF201 waits for a --target; the SEC001 key needs a human
    raw = path.read_text()
    after = json.loads(raw)
    assert raw == json.dumps(after, indent=1, ensure_ascii=False) + "\n"  # same JSON formatting
    assert after["metadata"] == before["metadata"] and after["nbformat_minor"] == before["nbformat_minor"]
    for old, new in zip(before["cells"], after["cells"]):
        assert new.get("id") == old.get("id") and new.get("outputs") == old.get("outputs")
        assert new.get("execution_count") == old.get("execution_count")
    setup, chat, shell = after["cells"][1]["source"], after["cells"][2]["source"], after["cells"][3]["source"]
    assert setup[0] == "%pip install openai==0.28 transformers\n" and setup[-1] == "!nvidia-smi"
    assert any(line.startswith("client = OpenAI(") for line in setup)
    assert chat == [
        'resp = client.chat.completions.create(model="gpt-3.5-turbo", messages=[{"role": "user", "content": "Hi"}])\n',
        "print(resp.choices[0].message.content)",
    ]
    assert shell == before["cells"][3]["source"] and after["cells"][0] == before["cells"][0]
    again = run_cli("apply", "tutorial.ipynb")
    assert path.read_text() == raw and "Fixed 0 legacy sites" in again.stdout


def test_broken_notebook_is_reported_and_left_alone(run_cli, tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [ {"cell_type": "code", "source": "import openai\\nopenai.Model.list()"')
    before = path.read_bytes()
    for command in ("scan", "apply"):
        proc = run_cli(command, "broken.ipynb")
        assert proc.returncode == 2 and "broken.ipynb: invalid notebook JSON" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert path.read_bytes() == before


def test_unreproducible_formatting_is_scanned_but_not_rewritten(run_cli, tmp_path):
    path = tmp_path / "odd.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source": "import openai\\nopenai.Model.list()"}],   "nbformat": 4}\n')
    before = path.read_bytes()
    assert run_cli("scan", "odd.ipynb").returncode == 1
    proc = run_cli("apply", "odd.ipynb")
    assert proc.returncode == 2 and "formatting could not be reproduced exactly; left alone" in proc.stderr
    assert path.read_bytes() == before


def test_magic_in_a_string_cell_and_help_syntax(run_cli, tmp_path):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": "import openai\nopenai.ChatCompletion?\n%time r = openai.Model.list()\nopenai.Model.list()"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "m.ipynb"
    path.write_text(json.dumps(nb, indent=1))
    assert run_cli("apply", "m.ipynb").returncode == 0
    source = json.loads(path.read_text())["cells"][0]["source"]
    assert "openai.ChatCompletion?\n%time r = openai.Model.list()\n" in source  # magics untouched
    assert source.endswith("client.models.list()")


def test_diff_shows_changed_cells_as_code(run_cli, tmp_path):
    path = tmp_path / "tutorial.ipynb"
    shutil.copy(NOTEBOOK, path)
    proc = run_cli("diff", "tutorial.ipynb")
    assert proc.returncode == 1
    assert "--- a/tutorial.ipynb:cell 3" in proc.stdout and "+++ b/tutorial.ipynb:cell 3" in proc.stdout
    assert "+print(resp.choices[0].message.content)" in proc.stdout
    assert '"source"' not in proc.stdout and "cell 4" not in proc.stdout  # code, not JSON; untouched cells absent
    assert path.read_bytes() == NOTEBOOK.read_bytes()
