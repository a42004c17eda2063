"""The hand-off to the official SDK (`mindee`, pinned by `make test`), exactly as the README
shows it, against our API simulator (`mindee-prep mock-server` on 127.0.0.1)."""

import os
import secrets
import subprocess
import time

import pytest

import mindee_prep
from conftest import FIXTURES

MODEL_ID = "12345678-1234-4234-8234-123456789abc"


@pytest.fixture(scope="module")
def simulator(cli_bin):
    key = "md_py_" + secrets.token_hex(8)
    proc = subprocess.Popen(
        [cli_bin, "mock-server", "--port", "0", "--api-key", key, "--processing-polls", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on "), (line, proc.stderr.read() if proc.poll() is not None else "")
        yield line.split("listening on ", 1)[1].strip(), key
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_prepared_heic_goes_through_the_sdk(simulator, monkeypatch):
    url, key = simulator
    monkeypatch.setenv("MINDEE_V2_BASE_URL", url)
    monkeypatch.setenv("MINDEE_V2_API_KEY", key)
    from mindee import BytesInput, PollingOptions
    from mindee.v2 import Client, ExtractionParameters, ExtractionResponse

    # The README's two lines.
    p = mindee_prep.prepare(FIXTURES / "heif" / "photo_12mp.heic")
    source = BytesInput(p.data, p.filename)

    params = ExtractionParameters(
        model_id=MODEL_ID,
        polling_options=PollingOptions(initial_delay_sec=1, delay_sec=1, max_retries=10),
    )
    started = time.monotonic()
    response = Client().enqueue_and_get_result(ExtractionResponse, source, params)
    assert time.monotonic() - started < 30
    inference = response.inference
    assert p.filename == "photo_12mp.jpg"
    assert inference.file.name == "photo_12mp.jpg"
    # The simulator, like the API, sniffs the type from the bytes: a JPEG arrived.
    assert inference.file.mime_type == "image/jpeg"
    assert inference.file.page_count == 1
    assert inference.model.id == MODEL_ID


def test_sdk_names_this_class():
    """The README's hand-off uses the installed SDK's own class and signature."""
    import inspect as pyinspect

    from mindee import BytesInput

    params = list(pyinspect.signature(BytesInput.__init__).parameters)
    assert params[1:3] == ["raw_bytes", "filename"], params
    source = BytesInput(b"%PDF-1.4\n", "a.pdf")
    assert source.filename == "a.pdf"
