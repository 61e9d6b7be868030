#!/usr/bin/env python3
"""Print every PromQL query of a Grafana dashboard, ready to send to Prometheus.

One line per query: the panel title, a tab, the expression on a single line. Grafana's
variables are replaced by concrete values, so each line can be run as it is against a real
Prometheus (the end-to-end test does exactly that and expects every query to return data):

    $job                   -> --job (default "ballot")
    $cluster, $instance    -> a regular expression (default ".*": every cluster and node)
    $__rate_interval       -> --rate-interval (default 1m)
    $__interval            -> --interval (default 1m)
    ${__interval_ms}       -> --interval in milliseconds (default 60000)
    $__range               -> --range (default 1h)

Usage:
    scripts/dashboard-queries.py [--dashboard dashboards/ballot-overview.json] [--job NAME]
                                 [--cluster REGEX] [--instance REGEX]
                                 [--rate-interval 1m] [--interval 1m] [--range 1h]

Exits with status 1 if the dashboard has a query that uses a variable not listed above, or a
panel without queries, so a new variable cannot slip into the end-to-end test unsubstituted.
Python 3 standard library only.
"""

import argparse
import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DASHBOARD = REPO_ROOT / "dashboards" / "ballot-overview.json"

# Grafana's variable syntaxes: $name, ${name}, ${name:format} and [[name]].
VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]")


def panels_with_queries(panels):
    """Yields every panel that can hold queries, including those nested in collapsed rows."""
    for panel in panels:
        if panel.get("type") == "row":
            yield from panels_with_queries(panel.get("panels", []))
        else:
            yield panel


def substitute(expr, values):
    """Replaces Grafana variables by concrete values; raises KeyError on an unknown one."""

    def replace(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in values:
            raise KeyError(name)
        return values[name]

    return VARIABLE.sub(replace, expr)


def milliseconds(duration):
    """`30s`, `1m`, `1h` or `1d` in milliseconds, for ${__interval_ms}."""
    units = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)", duration)
    if not match:
        raise ValueError(f"--interval {duration}: not a duration like 30s or 1m")
    return int(match.group(1)) * units[match.group(2)]


def one_line(expr):
    """Collapses the whitespace of a multi-line expression into single spaces."""
    return " ".join(expr.split())


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dashboard", type=Path, default=DEFAULT_DASHBOARD)
    parser.add_argument("--job", default="ballot", help="value of $job")
    parser.add_argument("--cluster", default=".*", help="regular expression for $cluster")
    parser.add_argument("--instance", default=".*", help="regular expression for $instance")
    parser.add_argument("--rate-interval", default="1m", help="value of $__rate_interval")
    parser.add_argument("--interval", default="1m", help="value of $__interval")
    parser.add_argument("--range", dest="range_", default="1h", help="value of $__range")
    args = parser.parse_args(argv)
    try:
        interval_ms = milliseconds(args.interval)
    except ValueError as error:
        parser.error(str(error))

    values = {
        "job": args.job,
        "cluster": args.cluster,
        "instance": args.instance,
        "__rate_interval": args.rate_interval,
        "__interval": args.interval,
        "__interval_ms": str(interval_ms),
        "__range": args.range_,
    }

    with open(args.dashboard, encoding="utf-8") as file:
        dashboard = json.load(file)

    errors = []
    lines = []
    for panel in panels_with_queries(dashboard.get("panels", [])):
        # One line per query: a tab or newline in a title would split or shift it.
        title = one_line(panel.get("title", "")) or f"panel {panel.get('id')}"
        exprs = [t.get("expr", "") for t in panel.get("targets", []) if not t.get("hide")]
        if not exprs or not all(e.strip() for e in exprs):
            errors.append(f"{title}: panel has no query, or an empty one")
            continue
        for expr in exprs:
            try:
                lines.append(f"{title}\t{one_line(substitute(expr, values))}")
            except KeyError as unknown:
                errors.append(f"{title}: unknown variable ${unknown.args[0]} in {one_line(expr)}")

    if errors:
        for error in errors:
            print(f"dashboard-queries: {args.dashboard}: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
