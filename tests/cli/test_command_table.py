"""The lazy command table lists exactly what the command modules register."""

import typer
from typer.testing import CliRunner

from repigment.cli import COMMANDS, build_app, command_modules


def registered(app: typer.Typer) -> set[str]:
    commands = app.registered_commands
    names = {c.name or (c.callback.__name__.replace("_", "-") if c.callback else "") for c in commands}
    return names | {g.name or "" for g in app.registered_groups}


def test_every_command_maps_to_the_module_that_registers_it() -> None:
    for module in command_modules():
        commands = registered(build_app([module]))
        assert commands, f"cli/{module}.py registers no command"
        for command in commands:
            assert COMMANDS.get(command) == module, f"COMMANDS[{command!r}] should be {module!r}"
    assert set(COMMANDS) == registered(build_app())


def test_each_command_runs_when_only_its_module_is_loaded() -> None:
    # A Typer app with a single command would otherwise collapse into that command and refuse its name.
    runner = CliRunner()
    for command, module in COMMANDS.items():
        result = runner.invoke(build_app([module]), [command, "--help"])
        assert result.exit_code == 0, f"{command}: {result.output}"
        assert f"repigment {command}" in result.output
