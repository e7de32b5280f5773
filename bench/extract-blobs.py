#!/usr/bin/env python3
"""Writes the blobs of `git ls-tree -r -z` (stdin) that a git directory holds into a folder.

    git --git-dir=G ls-tree -r -z COMMIT -- PATHS | extract-blobs.py G DEST

Used by bench/corpus.sh when `git archive` fails on a partial mirror (its largest blobs left
out): every blob present is written (symbolic links as links), the missing ones are counted on
stderr. One `git cat-file --batch` process reads them all.
"""
import os
import subprocess
import sys


def main() -> int:
    gitdir, dest = sys.argv[1], sys.argv[2]
    entries = []
    for record in sys.stdin.buffer.read().split(b"\0"):
        if not record:
            continue
        meta, path = record.split(b"\t", 1)
        mode, kind, oid = meta.split()
        if kind == b"blob":
            entries.append((mode, oid, os.fsdecode(path)))
    batch = subprocess.Popen(
        ["git", "--git-dir", gitdir, "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    batch.stdin.write(b"".join(oid + b"\n" for _, oid, _ in entries))
    batch.stdin.close()
    missing = 0
    for mode, oid, path in entries:
        header = batch.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            missing += 1
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)
        target = os.path.join(dest, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if mode == b"120000":
            os.symlink(os.fsdecode(data), target)
        else:
            with open(target, "wb") as f:
                f.write(data)
    batch.wait()
    if missing:
        print(f"corpus: {missing} of {len(entries)} blobs not in {gitdir}, left out", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
