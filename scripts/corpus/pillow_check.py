#!/usr/bin/env python3
"""Decode one file fully with Pillow and print what happened as one JSON object.

    pillow_check.py FILE          # Debian's Pillow (python3-pil), as /usr/bin/python3 has it
    pillow_check.py --heif FILE   # PyPI's Pillow with pillow-heif registered (the corpus venv)
    pillow_check.py --first-frame FILE   # only the first frame (a JPEG reader's view of an MPO)

Strict, as an application would run it: no LOAD_TRUNCATED_IMAGES, default decompression-bomb
limits. Every frame is loaded (at most 64). run.py calls it in a child process with a timeout
and an address-space cap, so a decoder that hangs or blows up only fails this check.
"""

import json
import sys
import warnings

MAX_FRAMES = 64


def main() -> None:
    heif = "--heif" in sys.argv[1:-1]
    first_only = "--first-frame" in sys.argv[1:-1]
    path = sys.argv[-1]
    from PIL import Image

    result = {"decoder": "pillow", "version": Image.__version__ if hasattr(Image, "__version__") else ""}
    if heif:
        import pillow_heif

        pillow_heif.register_heif_opener()
        result["decoder"] = "pillow-heif"
        result["version"] = pillow_heif.__version__
    try:
        import PIL

        result["version"] = result["version"] or PIL.__version__
    except Exception:  # noqa: BLE001 - only a label
        pass

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(path) as im:
                result.update(format=im.format, mode=im.mode, width=im.size[0], height=im.size[1])
                frames = getattr(im, "n_frames", 1)
                result["frames"] = frames
                result["animated"] = bool(getattr(im, "is_animated", False))
                for i in range(1 if first_only else min(frames, MAX_FRAMES)):
                    im.seek(i)
                    im.load()
            result["status"] = "ok"
        except Exception as e:  # noqa: BLE001 - any failure is the answer
            result["status"] = "fail"
            result["error"] = f"{type(e).__name__}: {e}"[:300]
    if caught and result["status"] == "ok":
        result["status"] = "warn"
        result["warning"] = "; ".join(str(w.message) for w in caught)[:300]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
