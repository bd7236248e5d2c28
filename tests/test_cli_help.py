"""Every command documents itself; `migrate diff --help` shows its description."""

import pytest
from click.testing import CliRunner

from migrator.cli import main

COMMANDS = sorted(main.commands)


def test_there_are_commands():
    assert {"scan", "diff", "apply", "report", "rules", "explain", "serve", "targets"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_text(name):
    command = main.commands[name]
    assert command.help and command.help.strip(), f"`migrate {name}` has no description"
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    first_line = " ".join(command.help.strip().splitlines()[0].split())
    assert first_line in " ".join(result.output.split())  # wrapped to the terminal width
    for param in command.params:
        if param.param_type_name == "option" and not getattr(param, "hidden", False):
            assert param.help or param.type.name == "choice" or param.opts[0] in ("--output-format", "--format", "--port"), (
                f"`migrate {name} {param.opts[0]}` has no help text")


def test_diff_help_shows_its_description():
    result = CliRunner().invoke(main, ["diff", "--help"])
    output = " ".join(result.output.split())
    assert "Show the rewrites as a unified diff; write nothing." in output
    assert "Exit status: 0 no change, 1 there are changes" in output
