"""The claims ledger's registry. Each behavioural sentence in README.md is followed by a
marker, `<!-- claim: ID -->`, and has one test, registered with `@claim(ID, SECTION)` in a
tests/test_claims*.py module; tests/test_docs.py checks that markers and tests match one to
one, in every edition."""

import importlib
from pathlib import Path

CLAIMS: dict[str, str] = {}  # claim id -> the README section (heading start) that makes it


def claim(claim_id: str, section: str):
    """Register a test as the proof of the README sentence marked <!-- claim: claim_id -->."""

    def register(test):
        assert claim_id not in CLAIMS, f"two tests for claim {claim_id}"
        CLAIMS[claim_id] = section
        return test

    return register


def all_claims() -> dict[str, str]:
    """Every registered claim, after importing every ledger module."""
    for module in sorted(Path(__file__).parent.glob("test_claims*.py")):
        importlib.import_module(module.stem)
    return CLAIMS
