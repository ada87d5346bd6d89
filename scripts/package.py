#!/usr/bin/env python3
"""Packages a built plugin folder as the zip Grafana users install.

    python3 scripts/package.py [DIST [OUT]]      (defaults: dist, dist-pkg)

`make package` runs it after `make dist`. It writes OUT/<id>-<version>.zip,
whose one top-level folder is the plugin id (Grafana's convention: the zip
unpacks to <plugins dir>/<id>/...), and OUT/<id>-<version>.zip.sha256 in
sha256sum's format (`cd OUT && sha256sum -c <zip>.sha256`).

DIST must be a finished build: plugin.json with its version filled in (the
same as Cargo.toml's), module.js, the linux/amd64 backend, README.md,
CHANGELOG.md, LICENSE and img/. Everything in DIST goes into the zip; files
keep their executable bit (0755) or get 0644. Standard library only, so it
runs wherever python3 does, without `zip`.
"""

import hashlib
import json
import os
import re
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIRED = ["plugin.json", "module.js", "README.md", "CHANGELOG.md", "LICENSE", "img"]


def fail(message):
    sys.exit(f"package: {message}")


def cargo_version():
    with open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8") as f:
        match = re.search(r'^version = "([^"]+)"', f.read(), re.MULTILINE)
    if not match:
        fail("no version in Cargo.toml")
    return match.group(1)


def main(argv):
    if len(argv) > 2 or any(a.startswith("-") for a in argv):
        fail("usage: python3 scripts/package.py [DIST [OUT]]")
    dist = argv[0] if argv else "dist"
    out = argv[1] if len(argv) > 1 else "dist-pkg"

    try:
        with open(os.path.join(dist, "plugin.json"), encoding="utf-8") as f:
            plugin = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{dist}/plugin.json is not readable JSON ({e}): run `make dist` first")
    plugin_id = plugin.get("id")
    version = plugin.get("info", {}).get("version")
    executable = plugin.get("executable")
    if not plugin_id or not executable:
        fail(f"{dist}/plugin.json has no id or executable")
    if not version or "%" in version:
        fail(f"{dist}/plugin.json has no version filled in: build the frontend (`make frontend-dist`)")
    if version != cargo_version():
        fail(f"{dist}/plugin.json has version {version}, Cargo.toml {cargo_version()}: rebuild dist/")

    backend = f"{executable}_linux_amd64"
    for name in REQUIRED + [backend]:
        if not os.path.exists(os.path.join(dist, name)):
            fail(f"{dist}/{name} is missing: run `make dist`")
    if not os.access(os.path.join(dist, backend), os.X_OK):
        fail(f"{dist}/{backend} is not executable")

    os.makedirs(out, exist_ok=True)
    name = f"{plugin_id}-{version}.zip"
    path = os.path.join(out, name)
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for directory, dirs, files in os.walk(dist):
            dirs.sort()
            rel = os.path.relpath(directory, dist)
            prefix = plugin_id if rel == "." else f"{plugin_id}/{rel}"
            z.writestr(entry(prefix + "/", directory, 0o40755), b"")
            for file in sorted(files):
                source = os.path.join(directory, file)
                mode = 0o100755 if os.access(source, os.X_OK) else 0o100644
                with open(source, "rb") as f:
                    z.writestr(entry(f"{prefix}/{file}", source, mode), f.read())
    os.replace(tmp, path)

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    with open(path + ".sha256", "w", encoding="utf-8") as f:
        f.write(f"{digest.hexdigest()}  {name}\n")
    print(f"{path}\n{path}.sha256")


def entry(name, source, mode):
    info = zipfile.ZipInfo.from_file(source, name)
    # Unix mode in the high half; MS-DOS's directory flag for folders.
    info.external_attr = (mode << 16) | (0x10 if name.endswith("/") else 0)
    if not name.endswith("/"):
        info.compress_type = zipfile.ZIP_DEFLATED
    return info


if __name__ == "__main__":
    main(sys.argv[1:])
