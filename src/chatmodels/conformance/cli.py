"""``chatmodels-conformance``: gate CI on a report, render it, diff two, print the schema or spec.

Exit codes: 0 success, 1 the gate failed or the spec is stale, 2 a usage error or an unusable
report (missing, invalid JSON, schema violation, another schema or suite version).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from chatmodels.conformance.requirements import Level

if TYPE_CHECKING:
    from chatmodels.conformance.report import Report
    from chatmodels.conformance.requirements import Catalogue

__all__ = ["build_parser", "main", "parse_level", "parse_max"]

PROG = "chatmodels-conformance"


def parse_level(value: str) -> Level:
    """Parse ``must``, ``should`` or ``may`` (any case) for ``--level``."""
    try:
        return Level(value.upper())
    except ValueError:
        msg = f"invalid level {value!r}; expected one of must, should, may"
        raise argparse.ArgumentTypeError(msg) from None


def parse_max(value: str) -> tuple[str, float]:
    """Parse ``FIGURE=VALUE`` for ``--max``, where VALUE is a finite number."""
    name, sep, number = value.partition("=")
    try:
        limit = float(number)
    except ValueError:
        limit = float("nan")
    if not sep or not name.strip() or limit != limit or limit in (float("inf"), float("-inf")):
        msg = (
            f"invalid budget {value!r}; expected FIGURE=VALUE with a finite number, "
            "e.g. latency_p50=250"
        )
        raise argparse.ArgumentTypeError(msg)
    return name.strip(), limit


def _catalogue(args: argparse.Namespace) -> Catalogue:
    if args.catalogue is not None:
        return args.catalogue  # type: ignore[no-any-return]
    from chatmodels.conformance.requirements import CATALOGUE

    return CATALOGUE


def _emit(text: str, output: Path | None, out: TextIO) -> None:
    if output is None:
        out.write(text)
        return
    from chatmodels.conformance.report import atomic_write

    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(output, text)


def _judged(args: argparse.Namespace, path: Path) -> Report:
    """Load *path* as the gate judges it: against the installed suite unless told otherwise."""
    from chatmodels.conformance.report import load_report

    if args.any_catalogue:
        return load_report(path, suite_version=None)
    if args.catalogue_digest is not None:
        return load_report(path, suite_version=None, digest=args.catalogue_digest)
    catalogue = _catalogue(args)
    return load_report(path, catalogue=catalogue, digest=catalogue.digest())


def _gated_report(args: argparse.Namespace) -> Report:
    """The report to judge; a journal of a run that never finished its report wins over it."""
    from chatmodels.conformance.report import journal_path, read_journal, recover_report

    journal = journal_path(args.report)
    if journal.is_file() and (not args.report.is_file() or not read_journal(journal).finished):
        print(f"{PROG}: the run did not finish its report; judging its journal {journal}")
        return recover_report(journal, _catalogue(args))
    return _judged(args, args.report)


def _cmd_gate(args: argparse.Namespace) -> int:
    from chatmodels.conformance.report import gate

    report = _gated_report(args)
    baseline = None
    if args.baseline is not None:
        baseline = _judged(args, args.baseline)
    reasons = gate(
        report,
        level=args.level,
        baseline=baseline,
        maxima=dict(args.max),
        require_complete=args.require_complete,
        allow_partial=args.allow_partial,
    )
    threshold = f"--level {args.level.value.lower()}"
    if not reasons:
        print(f"PASS: {report.verdict} ({threshold}) - {args.report}")
        return 0
    for reason in reasons:
        print(f"FAIL: {reason}")
    print(f"gate failed with {len(reasons)} reason(s) ({threshold}); verdict: {report.verdict}")
    return 1


def _cmd_report(args: argparse.Namespace) -> int:
    from chatmodels.conformance.report import journal_path, recover_report, write_reports

    if not args.recover:
        print(f"{PROG} report: nothing to do; pass --recover", file=sys.stderr)
        return 2
    journal = journal_path(args.report)
    report = recover_report(journal, _catalogue(args))
    paths = write_reports(report, args.report.parent)
    if paths["json"] != args.report:
        from chatmodels.conformance.report import atomic_write, dumps

        atomic_write(args.report, dumps(report))
    state = "; ".join(str(s) for s in report.run.incomplete) or "complete"
    print(f"recovered {args.report} from {journal}: {report.verdict} ({state})")
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    from chatmodels.conformance.report import (
        load_report,
        render_badge,
        render_html,
        render_markdown,
    )

    renderers: dict[str, Callable[[Any], str]] = {
        "html": render_html,
        "md": render_markdown,
        "badge": render_badge,
    }
    report = load_report(args.report, suite_version=None)
    _emit(renderers[args.format](report), args.output, sys.stdout)
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from chatmodels.conformance.report import diff, format_diff, load_report

    old = load_report(args.old, suite_version=None)
    new = load_report(args.new, suite_version=None)
    for line in format_diff(diff(old, new), old, new):
        print(line)
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from chatmodels.conformance.report import schema

    print(json.dumps(schema(), indent=2))
    return 0


def _cmd_spec(args: argparse.Namespace) -> int:
    from chatmodels.conformance.spec import render_spec

    text = render_spec(_catalogue(args))
    if args.check is not None:
        current = args.check.read_text(encoding="utf-8") if args.check.exists() else None
        if current != text:
            state = "missing" if current is None else "stale"
            print(f"{args.check} is {state}; regenerate it with: {PROG} spec -o {args.check}")
            return 1
        print(f"{args.check} is up to date")
        return 0
    _emit(text, args.output, sys.stdout)
    return 0


def _cmd_settings(args: argparse.Namespace) -> int:
    from chatmodels.conformance.settings import describe_settings

    for line in describe_settings(_catalogue(args)):
        print(line)
    return 0


def _command(
    sub: Any, name: str, func: Callable[[argparse.Namespace], int], summary: str, description: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=summary, description=description)
    parser.set_defaults(func=func)
    return parser


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", type=Path, metavar="PATH", help="write here instead of to stdout"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Check, render and compare chatmodels conformance reports. Run the suite with "
            "'pytest --chatmodels-conformance', then gate CI on "
            "reports/chatmodels-conformance.json."
        ),
        epilog="Exit codes: 0 pass, 1 gate failed or spec stale, 2 usage error or unusable report.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    gate = _command(
        sub,
        "gate",
        _cmd_gate,
        "exit 1 when a report fails: requirements, waivers, baseline, budgets",
        (
            "Fail (exit 1) on failing requirements at or above --level, waived requirements "
            "that passed unexpectedly, regressions against --baseline, figures over --max, "
            "and runs that did not check everything: empty, interrupted, crashed, filtered "
            "or stopped early, or with a MUST requirement not run (--allow-partial accepts "
            "filtered and stopped-early runs). When the run never finished its report, the "
            "journal beside it is judged. An unusable report (corrupt, counts or verdict that "
            "disagree with its entries, another catalogue, non-finite numbers) exits 2."
        ),
    )
    gate.add_argument("report", type=Path, metavar="REPORT.json", help="the report to check")
    gate.add_argument(
        "--level",
        type=parse_level,
        default=Level.MUST,
        metavar="must|should|may",
        help="the weakest level whose failures are fatal. Default: must",
    )
    gate.add_argument(
        "--baseline",
        type=Path,
        metavar="OLD.json",
        help="fail on any requirement that passed in this report and does not now",
    )
    gate.add_argument(
        "--max",
        type=parse_max,
        action="append",
        default=[],
        metavar="FIGURE=VALUE",
        help="fail when the recorded figure FIGURE exceeds VALUE (repeatable)",
    )
    gate.add_argument(
        "--require-complete",
        action="store_true",
        help="also fail when any SHOULD or MAY requirement was not run",
    )
    gate.add_argument(
        "--allow-partial",
        action="store_true",
        help=(
            "accept a filtered or stopped-early run (and the requirements it left out); "
            "never an empty, interrupted or crashed one"
        ),
    )
    judge = gate.add_mutually_exclusive_group()
    judge.add_argument(
        "--catalogue-digest",
        metavar="SHA256",
        help="judge a report run against this catalogue digest instead of the installed suite",
    )
    judge.add_argument(
        "--any-catalogue",
        action="store_true",
        help="judge the report against whatever catalogue it was run with",
    )

    report = _command(
        sub,
        "report",
        _cmd_report,
        "rebuild a report from the journal of a run that crashed or was killed",
        (
            "With --recover, rebuild REPORT.json (and its HTML, Markdown and badge) from the "
            "journal beside it (REPORT.journal.jsonl), marked crashed or interrupted."
        ),
    )
    report.add_argument(
        "report",
        type=Path,
        nargs="?",
        default=Path("reports/chatmodels-conformance.json"),
        metavar="REPORT.json",
        help="the report to rebuild. Default: reports/chatmodels-conformance.json",
    )
    report.add_argument(
        "--recover", action="store_true", help="rebuild the report from its journal"
    )

    render = _command(
        sub,
        "render",
        _cmd_render,
        "render a report as HTML, Markdown or a shields.io badge",
        "Render REPORT.json as self-contained HTML, Markdown, or badge JSON.",
    )
    render.add_argument("report", type=Path, metavar="REPORT.json", help="the report to render")
    render.add_argument(
        "--format", required=True, choices=("html", "md", "badge"), help="the output format"
    )
    _add_output(render)

    diff = _command(
        sub,
        "diff",
        _cmd_diff,
        "list the requirements that regressed or were fixed between two reports",
        "Print a table of status changes from OLD.json to NEW.json; always exit 0.",
    )
    diff.add_argument("old", type=Path, metavar="OLD.json", help="the earlier report")
    diff.add_argument("new", type=Path, metavar="NEW.json", help="the later report")

    _command(
        sub,
        "schema",
        _cmd_schema,
        "print the JSON Schema reports conform to",
        "Print the JSON Schema (draft 2020-12) shipped with this package.",
    )

    spec = _command(
        sub,
        "spec",
        _cmd_spec,
        "render conformance/SPEC.md from the requirement catalogue",
        "Render the specification from the catalogue, or check a file is current.",
    )
    spec.add_argument(
        "--check",
        type=Path,
        metavar="PATH",
        help="exit 1 when PATH differs from the rendered spec (stale)",
    )
    _add_output(spec)

    _command(
        sub,
        "settings",
        _cmd_settings,
        "list every suite tunable with its default, unit and meaning",
        (
            "List every tunable of --chatmodels-setting KEY=VALUE (or the chatmodels_settings "
            "ini key): its default, unit and meaning, then the budget.<ID> overrides."
        ),
    )

    from chatmodels.conformance.faults.cli import add_serve_command

    add_serve_command(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, catalogue: Catalogue | None = None) -> int:
    """Run the command line; *catalogue* replaces the built-in one (for tests)."""
    from chatmodels.conformance.report import ReportError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    args.catalogue = catalogue
    try:
        code: int = args.func(args)
    except (ReportError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (RecursionError, MemoryError) as exc:  # hostile input must never show a traceback
        print(f"{PROG}: error: input too large or too deep: {type(exc).__name__}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
