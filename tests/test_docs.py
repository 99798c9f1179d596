"""Every setting is documented in the README, and .ci/run runs the README's test command."""

from __future__ import annotations

from pathlib import Path

from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"PLANQA_{name.upper()}" not in readme]
    assert not missing, f"README に説明のない設定: {missing}"
    assert all(field.description for field in Settings.model_fields.values())


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make test" in ci
