"""The README's configuration table is made from the settings class and kept in step."""

from __future__ import annotations

import re
from pathlib import Path

from api import cli
from api.settings import TABLE_BEGIN, TABLE_END, Settings, settings_table, with_settings_table

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_every_setting_has_a_description() -> None:
    missing = [name for name, field in Settings.model_fields.items()
               if len((field.description or "").split()) < 3]
    assert not missing, f"settings without a description: {missing}"


def test_the_readme_table_is_the_generated_one() -> None:
    readme = README.read_text(encoding="utf-8")
    assert readme.count(TABLE_BEGIN) == 1 and readme.count(TABLE_END) == 1
    assert with_settings_table(readme) == readme, (
        "the README's settings table differs from api/settings.py: run "
        "`backorders check-config --markdown README.md`")


def test_the_table_names_every_setting_once() -> None:
    names = re.findall(r"^\| `([A-Z_]+)` \|", settings_table(), re.MULTILINE)
    assert len(names) == len(set(names)) == len(Settings.model_fields)
    for wanted in ("BACKORDERS_CORS_ORIGINS", "BACKORDERS_INTROSPECTION",
                   "BACKORDERS_RATE_LIMIT_STORAGE", "BACKORDERS_MAX_COST",
                   "BACKORDERS_NOTIFY_BATCH", "HOST", "PORT"):
        assert wanted in names


def test_check_config_writes_the_table_between_the_markers(tmp_path: Path) -> None:
    target = tmp_path / "README.md"
    target.write_text(f"intro\n\n{TABLE_BEGIN}\n| stale |\n{TABLE_END}\n\nafter\n",
                      encoding="utf-8")
    args = cli._parser().parse_args(["check-config", "--markdown", str(target)])
    assert args.run(args, Settings()) == 0
    assert target.read_text(encoding="utf-8") == (
        f"intro\n\n{TABLE_BEGIN}\n{settings_table()}{TABLE_END}\n\nafter\n")
