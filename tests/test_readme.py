"""The README's configuration table lists every setting, and nothing that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from bazaar.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`BAZAAR_([A-Z0-9_]+)`", README.read_text()))
    declared = {name.upper() for name in Settings.model_fields}
    assert declared - documented == set(), "settings missing from README"
    assert documented - declared == set(), "README documents settings that do not exist"
