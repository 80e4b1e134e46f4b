"""Themes load from themes/*.toml; a bad file is reported and the default takes its place."""

from __future__ import annotations

from pathlib import Path

from app_helpers import make_app

from desk.app.themes import DEFAULT_THEME, THEMES_DIR, load_themes


def test_bundled_themes_are_dark_light_and_high_contrast_and_all_valid() -> None:
    loaded = load_themes(THEMES_DIR)
    assert loaded.problems == []
    assert loaded.names[0] == DEFAULT_THEME
    assert {"desk-dark", "desk-light", "desk-high-contrast"} <= set(loaded.names)


def test_a_bad_theme_file_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "ugly.toml").write_text('name = "ugly"\nprimary = "not-a-colour"\n')
    (tmp_path / "broken.toml").write_text('name = "broken\n')
    loaded = load_themes(tmp_path)
    assert loaded.names == [DEFAULT_THEME]
    assert any(f"{tmp_path / 'ugly.toml'}: primary:" in p and "not a colour" in p
               for p in loaded.problems)
    assert any(f"{tmp_path / 'broken.toml'}: invalid TOML" in p for p in loaded.problems)


async def test_a_bad_theme_gives_a_notification_and_the_default(tmp_path: Path) -> None:
    themes = tmp_path / "themes"
    themes.mkdir()
    (themes / "bad.toml").write_text('name = "bad"\nprimary = "#zzz"\nsparkle = 1\n')
    app = make_app(tmp_path, app={"theme": "bad"})
    app.themes_dir = themes
    async with app.run_test() as pilot:
        await pilot.pause(0.05)
        assert app.theme == DEFAULT_THEME
        messages = " ".join(n.message for n in app._notifications)
        assert "bad.toml" in messages and "sparkle" in messages


async def test_t_cycles_through_the_themes_and_the_session_setting_picks_one(
        tmp_path: Path) -> None:
    app = make_app(tmp_path, app={"theme": "desk-light"})
    async with app.run_test() as pilot:
        assert app.theme == "desk-light"
        seen = {app.theme}
        for _ in range(len(app.theme_names)):
            await pilot.press("t")
            seen.add(app.theme)
        assert {"desk-dark", "desk-light", "desk-high-contrast"} <= seen


async def test_a_theme_is_picked_by_its_files_name_too(tmp_path: Path) -> None:
    from desk.app.desk_app import DeskApp

    app = DeskApp(make_app(tmp_path).runner, theme="high-contrast")   # themes/high-contrast.toml
    async with app.run_test() as pilot:
        await pilot.pause(0.05)
        assert app.theme == "desk-high-contrast"
        assert not [n for n in app._notifications if n.severity == "warning"]


async def test_theme_takes_the_path_of_a_theme_file(tmp_path: Path) -> None:
    from desk.app.desk_app import DeskApp

    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\nprimary = "#ff00aa"\ndark = false\n')
    app = make_app(tmp_path)
    app = DeskApp(app.runner, theme=str(path))
    async with app.run_test() as pilot:
        await pilot.pause(0.05)
        assert app.theme == "mine" and app.current_theme.primary == "#ff00aa"
        assert "mine" in app.theme_names
        assert not [n for n in app._notifications if n.severity == "warning"]


async def test_a_bad_theme_file_given_by_path_gives_a_notification_and_the_default(
        tmp_path: Path) -> None:
    from desk.app.desk_app import DeskApp

    path = tmp_path / "broken.toml"
    path.write_text('name = "broken"\nprimary = "nope"\n')
    app = make_app(tmp_path)
    app = DeskApp(app.runner, theme=str(path))
    async with app.run_test() as pilot:
        await pilot.pause(0.05)
        assert app.theme == DEFAULT_THEME
        warnings = [n for n in app._notifications if n.title == "bad theme file"]
        assert len(warnings) == 1 and f"{path}: primary" in warnings[0].message
    (tmp_path / "again").mkdir()
    missing = DeskApp(make_app(tmp_path / "again").runner, theme=str(tmp_path / "absent.toml"))
    async with missing.run_test() as pilot:
        await pilot.pause(0.05)
        assert missing.theme == DEFAULT_THEME
        assert any("absent.toml" in n.message for n in missing._notifications)


async def test_a_theme_file_named_in_the_session_is_read_beside_the_session(
        tmp_path: Path) -> None:
    (tmp_path / "house.toml").write_text('name = "house"\nprimary = "#123456"\n')
    app = make_app(tmp_path, app={"theme": "house.toml"})   # relative to the session's folder
    async with app.run_test() as pilot:
        await pilot.pause(0.05)
        assert app.theme == "house"
