"""requirements.txt is the complete lock of requirements.in, and .venv holds exactly it."""

import hashlib
import re
from importlib.metadata import PackageNotFoundError, distribution

from lessons import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def lock_pins() -> dict[str, str]:
    """{package: version} for every pin in requirements.txt that applies to this Python."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith((" ", "#")):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate():
                (spec,) = requirement.specifier
                pins[canonicalize_name(requirement.name)] = spec.version
    return pins


def test_the_lock_was_compiled_from_requirements_in_as_it_is():
    first = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()[0]
    recorded = re.fullmatch(r"# requirements.in sha256: ([0-9a-f]{64})", first)
    assert recorded, "requirements.txt was not written by `make lock`"
    actual = hashlib.sha256((ROOT / "requirements.in").read_bytes()).hexdigest()
    assert recorded[1] == actual, "requirements.in changed since `make lock`: run it again"


def test_every_package_the_lessons_import_is_pinned_within_its_range():
    pins = lock_pins()
    for line in (ROOT / "requirements.in").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            wanted = Requirement(line)
            pinned = pins.get(canonicalize_name(wanted.name))
            assert pinned and wanted.specifier.contains(pinned), f"{line}: locked {pinned}"


def test_the_lock_is_complete_and_installed_exactly():
    """Each locked package is installed at its pin, and so is everything it depends on."""
    pins = lock_pins()
    for name, version in pins.items():
        try:
            installed = distribution(name)
        except PackageNotFoundError:
            raise AssertionError(f"{name}=={version} is locked but not installed") from None
        assert installed.version == version, f"{name}: installed {installed.version}"
        for line in installed.requires or []:
            needed = Requirement(line)
            if needed.marker is not None and not needed.marker.evaluate({"extra": ""}):
                continue  # an optional extra, or another platform's dependency
            assert canonicalize_name(needed.name) in pins, (
                f"{name} needs {needed.name}, which requirements.txt does not lock"
            )
