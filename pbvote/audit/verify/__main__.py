"""``python -m pbvote.audit.verify BUNDLE_DIR_OR_ZIP [--chain CHAIN] [--json]``.

Exit status: 0 when every check holds, 1 when one fails, 2 when the input cannot be read."""
from __future__ import annotations

import argparse
import json
import sys

from pbvote.audit.verify.reading import BundleError
from pbvote.audit.verify.run import verify_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pbvote.audit.verify",
        description="Verify a published pbvote results bundle, and with --chain the full log.")
    parser.add_argument("bundle", help="the bundle directory or its .zip")
    parser.add_argument("--chain", help="the auditors' chain export (JSON lines)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = verify_path(args.bundle, args.chain, parallel=True)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (OSError, RecursionError, MemoryError) as error:
        print(f"error: the input cannot be read ({type(error).__name__}: {error})",
              file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
