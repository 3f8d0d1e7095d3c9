"""`ragctl ingest` over hostile PDFs (default: ../shared/corpora/pdf-robustness), with the known passwords from
the corpus manifests configured, as a user would: outcome counts, the files that still fail and why, and a
search of everything the MLflow run wrote (store and artifacts) for the passwords.

    .venv/bin/python bench/robustness.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def passwords(corpus: Path) -> dict[str, str]:
    """File name -> password, from pypdf-resources' manifest.json (and the one py-pdf-sample-files names)."""
    found: dict[str, str] = {}
    for manifest in corpus.rglob("manifest.json"):
        for item in json.loads(manifest.read_text()):
            if item.get("password") is not None:
                found[Path(item["file"]).name] = item["password"]
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora" / "pdf-robustness")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ragctl-bench-robust-"))
    docs = work / "docs"
    for pdf in sorted(args.corpus.rglob("*.pdf")):
        target = docs / pdf.relative_to(args.corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(pdf, target)
    secrets = passwords(args.corpus)
    config = {
        "ingestion": {"paths": ["docs"], "timeout": 60, "pdf": {"passwords": secrets}},
        "vector_store": {"path": "state/chroma", "collection": "robust"},
        "tracking": {"uri": "sqlite:///state/mlflow.db", "artifact_location": "state/artifacts"},
    }
    (work / "ragctl.yaml").write_text(json.dumps(config))  # YAML is a superset of JSON
    done = subprocess.run([str(BIN / "ragctl"), "ingest", "--json"], cwd=work, capture_output=True, text=True)
    report = json.loads(done.stdout)
    outcomes = collections.Counter(f["outcome"] for f in report["files"])
    print(f"{len(report['files'])} PDFs, exit code {done.returncode}, {report['summary']['seconds']:.0f} s")
    print("| outcome | files |\n|---|---:|")
    for outcome, n in outcomes.most_common():
        print(f"| {outcome} | {n} |")
    print("\nnot ok:")
    for f in report["files"]:
        if f["outcome"] != "ok":
            print(f"  {f['file']}: {f['outcome']}: {f['reason']}")
    (work / "ragctl.yaml").unlink()  # the only place the passwords may be
    # MLflow only: Chroma holds the documents' text, and some of these PDFs print their own password. A
    # password that is also part of a file name ("password") cannot tell a leak from a name.
    names = " ".join(str(p) for p in docs.rglob("*"))
    distinctive = sorted({p for p in secrets.values() if len(p) >= 6 and p not in names})
    leaks = []
    stores = [work / "state" / "mlflow.db", *(work / "state" / "artifacts").rglob("*")]
    for path in stores:
        if path.is_file():
            data = path.read_bytes()
            leaks += [f"{path.relative_to(work)}: {p}" for p in distinctive if p.encode() in data]
    print(f"\npasswords searched for in the MLflow store and every artifact: {distinctive}")
    print("leaks: " + (", ".join(leaks) if leaks else "none"))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
