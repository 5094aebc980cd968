#!/usr/bin/env python3
"""Counts the lines of code of every `.rs` file under the given directories (default
engine/src) and fails naming each file over the limit.

A line of code is a line that is neither blank nor comment-only: lines that start with `//`
(doc comments included) and lines inside a `/* ... */` block comment do not count.

Usage: scripts/loc.py [--max N] [--report] [DIR ...]
  --max N    the limit (default 450)
  --report   also print every file's count, largest first
Exits 1 when a file is over the limit, 2 when a directory does not exist.
"""

import argparse
import os
import sys

DEFAULT_DIRS = ["engine/src"]
DEFAULT_MAX = 450


def code_lines(text):
    """The number of lines of `text` that are neither blank nor comment-only."""
    count = 0
    depth = 0  # nesting of block comments (Rust's nest)
    for line in text.splitlines():
        rest = line.strip()
        code = False
        while rest:
            if depth > 0:
                open_at = rest.find("/*")
                close_at = rest.find("*/")
                if close_at < 0 and open_at < 0:
                    rest = ""
                elif open_at >= 0 and (close_at < 0 or open_at < close_at):
                    depth += 1
                    rest = rest[open_at + 2 :]
                else:
                    depth -= 1
                    rest = rest[close_at + 2 :].strip()
            elif rest.startswith("//"):
                rest = ""
            elif rest.startswith("/*"):
                depth = 1
                rest = rest[2:]
            else:
                code = True
                rest = ""
        if code:
            count += 1
    return count


def rust_files(directory):
    """Every `.rs` file under `directory`, sorted."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d != "target")
        found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(".rs"))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", default=DEFAULT_DIRS)
    parser.add_argument("--max", type=int, default=DEFAULT_MAX)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()

    counts = []
    for directory in args.dirs:
        if not os.path.isdir(directory):
            print(f"loc.py: no directory {directory}", file=sys.stderr)
            return 2
        for path in rust_files(directory):
            with open(path, encoding="utf-8") as f:
                counts.append((code_lines(f.read()), path))

    if args.report:
        try:
            for n, path in sorted(counts, reverse=True):
                print(f"{n:6} {path}")
            sys.stdout.flush()
        except BrokenPipeError:
            # The report went into `head`: stop printing it, but still check the limit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())

    over = [(n, path) for n, path in counts if n > args.max]
    for n, path in sorted(over, reverse=True):
        print(f"{path}: {n} lines of code, over {args.max}", file=sys.stderr)
    if over:
        return 1
    print(f"loc.py: {len(counts)} files, none over {args.max} lines of code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
