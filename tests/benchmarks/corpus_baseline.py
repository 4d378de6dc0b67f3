"""Benchmark (not a test): raw SpiffWorkflow 3.2 on a folder of real exports, for comparison.

Each BPMN file is parsed by `SpiffBpmnParser` with the BPMN and DMN files beside it (so
its call activities can resolve), and each of the file's own processes is run with
SpiffWorkflow's own `BpmnWorkflow` and default script engine until one reaches an end:
user tasks completed with empty data, parked service tasks completed, waiting timers
refreshed, at most 2,000 steps and 10 s per file. These are the rules the corpus README's
baseline states; on ../shared/corpus they reproduce its 116 files run to an end. Prints
how many parsed and how many reached an end, and, given the JSON lines of
`panjereh validate --summary DIR --run --json`, how Panjereh compares file by file.

Usage: .venv/bin/python tests/benchmarks/corpus_baseline.py DIR [summary.jsonl]
"""

from __future__ import annotations

import json
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.summary_files import bpmn_files

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
MAX_STEPS = 2000
SECONDS = 10


class _OutOfTime(Exception):
    pass


def _alarm(*_: Any) -> None:
    raise _OutOfTime


def _parser(path: Path) -> SpiffBpmnParser:
    """A parser holding `path`, with whatever BPMN and DMN beside it that parses."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(path))
    for sibling in sorted(path.parent.iterdir()):
        if sibling == path or not sibling.is_file():
            continue
        try:
            if sibling.name.endswith((".bpmn", ".bpmn20.xml")):
                parser.add_bpmn_file(str(sibling))
            elif sibling.suffix == ".dmn":
                parser.add_dmn_file(str(sibling))
        except Exception:
            continue
    return parser


def _runs_to_end(workflow: BpmnWorkflow) -> bool:
    workflow.do_engine_steps()
    for _ in range(MAX_STEPS):
        if workflow.is_completed():
            break
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        started = workflow.get_tasks(state=TaskState.STARTED)
        if ready:
            ready[0].run()
        elif started:
            started[0].complete()
        else:
            workflow.refresh_waiting_tasks()
            if not workflow.get_tasks(state=TaskState.READY):
                break
        workflow.do_engine_steps()
    return bool(workflow.is_completed())


def raw_run(path: Path) -> dict[str, bool]:
    """Whether raw SpiffWorkflow parses one of the file's processes, and runs one to an end."""
    result = {"parsed": False, "ran": False}
    signal.alarm(SECONDS)
    try:
        parser = _parser(path)
        known = parser.get_process_ids()
        own = [p.get("id") for p in etree.parse(str(path)).getroot().iterfind(f"{BPMN}process")]
        for key in (k for k in own if k in known):
            try:
                workflow = BpmnWorkflow(parser.get_spec(key), parser.get_subprocess_specs(key))
            except Exception:
                continue
            result["parsed"] = True
            try:
                if _runs_to_end(workflow):
                    result["ran"] = True
                    break
            except _OutOfTime:
                raise
            except Exception:
                continue
    except Exception:
        pass
    finally:
        signal.alarm(0)
    return result


def main() -> None:
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, _alarm)
    root = Path(sys.argv[1])
    raw = {str(path.relative_to(root)): raw_run(path) for path in bpmn_files(root)}
    print(f"raw SpiffWorkflow: {len(raw)} files, {sum(r['parsed'] for r in raw.values())} parsed, "
          f"{sum(r['ran'] for r in raw.values())} ran to an end")
    if len(sys.argv) > 2:
        ours = {line["file"]: line for line in map(json.loads, Path(sys.argv[2]).read_text().splitlines())}
        ran = sum(bool(line["ran_to_end"]) for line in ours.values())
        both = sum(1 for name, r in raw.items() if r["ran"] and ours.get(name, {}).get("ran_to_end"))
        lost = sorted(name for name, r in raw.items() if r["ran"] and not ours.get(name, {}).get("ran_to_end"))
        print(f"Panjereh: {ran} ran to an end ({ran / max(1, sum(r['ran'] for r in raw.values())):.2f}x raw); "
              f"{both} of raw's also here; raw ran but Panjereh did not: {len(lost)}")
        for name in lost:
            print(f"  {name}: {(ours.get(name, {}).get('reasons') or ['?'])[-1][:160]}")


if __name__ == "__main__":
    main()
