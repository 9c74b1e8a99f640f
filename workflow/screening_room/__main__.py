"""Command line of the screening room.

    python -m workflow.screening_room serve REVIEW.sqlite [--records CSV] [--config config.yaml] [--port 8765] [--reviewer NAME] [--double]
    python -m workflow.screening_room export REVIEW.sqlite OUT.csv [--all]
    python -m workflow.screening_room import-asreview REVIEW.sqlite LAB.csv|LAB.ris --reviewer NAME [--double] [--seed 0]
    python -m workflow.screening_room export-asreview REVIEW.sqlite OUT.csv|OUT.ris

``serve`` creates the review file from ``--records`` when it does not exist, then serves it on
127.0.0.1 (one server per review file); ``export`` writes the final decisions (``--all``: every
decision row). ``import-asreview`` adds the decisions of a file ASReview LAB exported (creating
the review from its records when the file is new) as the named reviewer's; ``export-asreview``
writes every record with its final decision, reason and note as a file LAB reads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn
import yaml

from workflow.literature.screen import Criteria
from workflow.literature.stopping import StoppingRules

from .agreement import final_decisions
from .asreview import export_labelled, import_labelled, read_labelled
from .lock import only_server
from .room import Room
from .server import application
from .store import Review, ReviewError, decisions_table
from .tables import read_records


def serve(args: argparse.Namespace) -> None:
    if not Path(args.review).exists():
        if not args.records:
            raise ReviewError(f"{args.review}: no such review file; name the records to screen with --records")
        Review.create(args.review, read_records(args.records), double=args.double, seed=args.seed).close()
    screening = yaml.safe_load(Path(args.config).read_text())["literature"]["screening"] if args.config else {}
    with only_server(args.review):
        room = Room(Review(args.review), Criteria.from_config(screening), StoppingRules(**screening.get("stopping", {})))
        reviewer = f"?reviewer={args.reviewer}" if args.reviewer else ""
        print(f"Screening room for {args.review} ({len(room.records)} records): http://{args.host}:{args.port}/{reviewer}", flush=True)
        uvicorn.run(application(room), host=args.host, port=args.port, log_level="warning")


def export(args: argparse.Namespace) -> None:
    review = Review(args.review)
    (decisions_table(review) if args.all else final_decisions(review)).to_csv(args.out, index=False)


def import_asreview(args: argparse.Namespace) -> None:
    if not Path(args.review).exists():
        Review.create(args.review, read_labelled(args.file)[0], double=args.double, seed=args.seed).close()
    with only_server(args.review):  # not while a server is deciding on the same file
        added = import_labelled(Review(args.review), args.file, args.reviewer)
    print(f"{args.review}: {added} decisions of {args.file} added as {args.reviewer}'s")


def export_asreview(args: argparse.Namespace) -> None:
    export_labelled(Review(args.review), args.out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workflow.screening_room", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve a review in the browser")
    run.add_argument("review", help="the review's SQLite file")
    run.add_argument("--records", help="CSV of the records to screen, when the review file is new")
    run.add_argument("--config", help="workflow configuration: its literature.screening criteria are highlighted, its stopping rule applied")
    run.add_argument("--double", action="store_true", help="a new review is double-screened (two reviewers, blinded)")
    run.add_argument("--seed", type=int, default=0, help="a new review's seed (the order before the model can rank)")
    run.add_argument("--reviewer", help="the name the page starts with")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8765)
    run.set_defaults(action=serve)
    out = commands.add_parser("export", help="write the decisions as CSV")
    out.add_argument("review")
    out.add_argument("out")
    out.add_argument("--all", action="store_true", help="every decision row, not only the final decisions")
    out.set_defaults(action=export)
    lab = commands.add_parser("import-asreview", help="add the decisions of a labelled file that ASReview LAB exported")
    lab.add_argument("review")
    lab.add_argument("file", help="LAB's CSV or RIS export")
    lab.add_argument("--reviewer", required=True, help="whose decisions they become (that reviewer's model learns from them)")
    lab.add_argument("--double", action="store_true", help="a new review is double-screened")
    lab.add_argument("--seed", type=int, default=0, help="a new review's seed")
    lab.set_defaults(action=import_asreview)
    back = commands.add_parser("export-asreview", help="every record with its final decision, as a file ASReview LAB reads")
    back.add_argument("review")
    back.add_argument("out", help="OUT.csv or OUT.ris")
    back.set_defaults(action=export_asreview)
    args = parser.parse_args(argv)
    try:
        args.action(args)
    except ReviewError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
