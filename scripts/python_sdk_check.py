"""Drives the official Mindee Python SDK (V2) against the local simulator.

Run by python_sdk_check.sh with MINDEE_V2_BASE_URL / MINDEE_V2_API_KEY pointing at a
`mindee-prep mock-server` started with `--processing-polls 2 --fail-model-id $FAIL_MODEL_ID`.
Exits non-zero (AssertionError or SDK exception) on any mismatch.
"""

import os
import struct
import sys
import tempfile
import zlib

import mindee
from mindee import BytesInput, PathInput, PollingOptions
from mindee.v2 import (
    Client,
    ExtractionParameters,
    ExtractionResponse,
    OCRParameters,
    OCRResponse,
    SplitParameters,
    SplitResponse,
)
from mindee.error.mindee_error import MindeeError
from mindee.v2.error.mindee_http_error_v2 import MindeeHTTPErrorV2

MODEL_ID = "12345678-1234-4234-8234-123456789abc"
FAIL_MODEL_ID = os.environ["FAIL_MODEL_ID"]
# The SDK's floor: polling delays under one second are refused.
FAST = PollingOptions(initial_delay_sec=1, delay_sec=1, max_retries=10)


def png(width: int, height: int) -> bytes:
    """A valid greyscale PNG, made with the standard library only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def pdf(pages: int) -> bytes:
    """A minimal PDF with `pages` empty pages."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
    ] + [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"] * pages
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += f"{i + 1} 0 obj\n".encode() + o + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def check_extraction(client: Client, path: str) -> None:
    params = ExtractionParameters(
        model_id=MODEL_ID,
        alias="sdk-check",
        raw_text=True,
        confidence=True,
        polling_options=FAST,
    )
    response = client.enqueue_and_get_result(ExtractionResponse, PathInput(path), params)
    inference = response.inference
    assert inference.file.name == "sample.png", inference.file.name
    assert inference.file.alias == "sdk-check", inference.file.alias
    assert inference.file.page_count == 1, inference.file.page_count
    assert inference.file.mime_type == "image/png", inference.file.mime_type
    assert inference.model.id == MODEL_ID, inference.model.id
    assert inference.job.id == inference.id, (inference.job.id, inference.id)
    fields = inference.result.fields
    assert fields["supplier_name"].value == "Mock Supplier Ltd", fields["supplier_name"].value
    assert fields["total_tax"].value == 0, fields["total_tax"].value
    assert fields["total_amount"].value == 42.5, fields["total_amount"].value
    assert fields["due_date"].value is None
    assert fields["document_type"].confidence.value == "Certain", fields["document_type"].confidence
    items = fields["line_items"].items
    assert len(items) == 1 and items[0].fields["quantity"].value == 1
    assert fields["supplier_address"].fields["country"].value == "FR"
    assert inference.active_options.raw_text is True
    assert inference.active_options.confidence is True
    assert inference.active_options.polygon is False
    pages = inference.result.raw_text.pages
    assert len(pages) == 1 and pages[0].content == "Simulated text of page 1", pages
    # The SDK's own text rendering must work on the simulator's answer too.
    assert "Mock Supplier Ltd" in str(response)
    print("extraction: ok (polling flow, 302 body, fields, options, raw text)")


def check_ocr_and_split(client: Client) -> None:
    doc = pdf(3)
    ocr = client.enqueue_and_get_result(
        OCRResponse,
        BytesInput(doc, "three_pages.pdf"),
        OCRParameters(model_id=MODEL_ID, polling_options=FAST),
    )
    assert ocr.inference.file.page_count == 3, ocr.inference.file.page_count
    assert ocr.inference.file.mime_type == "application/pdf"
    assert len(ocr.inference.result.pages) == 3
    assert ocr.inference.result.pages[0].words[0].content == "Simulated"
    split = client.enqueue_and_get_result(
        SplitResponse,
        BytesInput(doc, "three_pages.pdf"),
        SplitParameters(model_id=MODEL_ID, polling_options=FAST),
    )
    assert split.inference.result.splits[0].page_range == [0, 2], split.inference.result.splits[0].page_range
    print("ocr + split: ok (product routes, PDF page count)")


def check_errors(path: str) -> None:
    base = os.environ["MINDEE_V2_BASE_URL"]
    bad = Client(api_key="md_definitely_wrong_key")
    try:
        bad.enqueue(PathInput(path), ExtractionParameters(model_id=MODEL_ID))
    except MindeeHTTPErrorV2 as e:
        assert e.status == 401, e.status
        assert e.code == "401-001", e.code
    else:
        raise AssertionError(f"a wrong key was accepted by {base}")
    good = Client()
    try:
        good.enqueue(PathInput(path), ExtractionParameters(model_id="not-a-uuid"))
    except MindeeHTTPErrorV2 as e:
        assert e.status == 422, e.status
        assert e.errors and e.errors[0].pointer == "#/model_id", e.errors
    else:
        raise AssertionError("a malformed model_id was accepted")
    try:
        good.enqueue_and_get_result(
            ExtractionResponse,
            PathInput(path),
            ExtractionParameters(model_id=FAIL_MODEL_ID, polling_options=FAST),
        )
    except MindeeError as e:
        assert "simulated failure" in str(e), str(e)
    else:
        raise AssertionError("a failing job returned a result")
    print("errors: ok (401 wrong key, 422 pointer, failed job)")


def main() -> int:
    print(f"mindee SDK {getattr(mindee, '__version__', '')}".strip(), file=sys.stderr)
    client = Client()  # MINDEE_V2_API_KEY and MINDEE_V2_BASE_URL from the environment
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sample.png")
        with open(path, "wb") as f:
            f.write(png(64, 48))
        check_extraction(client, path)
        check_ocr_and_split(client)
        check_errors(path)
    print("python SDK check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
