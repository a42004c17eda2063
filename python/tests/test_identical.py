"""Every fixture gives, through `mindee_prep.prepare`, what the CLI gives: the same bytes and
report for what is prepared, the same kind (as its exception class) and message for what is
refused."""

from pathlib import Path

import pytest

import mindee_prep
from conftest import fixture_files

FILES = fixture_files()
# Fields of a `prepare --json` line that describe the run on disk, not the file.
RUN_FIELDS = {"input", "status", "output", "millis"}


def test_every_fixture_is_covered(cli_lines):
    assert len(FILES) > 60
    assert sorted(cli_lines) == sorted(str(f.resolve()) for f in FILES)
    assert any(line["status"] == "rejected" for line in cli_lines.values())
    assert any(line.get("action") == "downscaled" for line in cli_lines.values())


@pytest.mark.parametrize("path", FILES, ids=[str(f.relative_to(f.parents[1])) for f in FILES])
def test_same_as_cli(path: Path, cli_lines):
    line = cli_lines[str(path.resolve())]
    if line["status"] == "ok":
        prepared = mindee_prep.prepare(path)
        with open(line["output"], "rb") as f:
            expected = f.read()
        assert prepared.data == expected, f"{path}: bytes differ from the CLI's"
        report = {k: v for k, v in line.items() if k not in RUN_FIELDS}
        assert prepared.report == report
        assert prepared.action == line["action"]
        assert prepared.filename == path.stem + Path(line["output"]).suffix
    else:
        kind = line["error"]["kind"]
        with pytest.raises(mindee_prep.PrepareError) as info:
            mindee_prep.prepare(path)
        error = info.value
        assert error.kind == kind
        assert type(error).__name__ != "PrepareError", f"no class for kind {kind}"
        assert type(error).kind == kind
        assert str(error) == line["error"]["message"]
        assert error.format == line.get("format")
