"""Run `cvre` commands in-process and tell a clean user-facing stop from a traceback."""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner

UNEXPECTED = "shows the traceback"  # the hint the CLI adds to an error it did not foresee

runner = CliRunner()


@dataclass
class Ran:
    args: list[str]
    code: int
    output: str

    @property
    def clean(self) -> bool:
        """Worked (0), or stopped with one `error:` line (2) that is not an unforeseen exception."""
        if self.code == 0:
            return True
        return self.code == 2 and "error:" in self.output and UNEXPECTED not in self.output \
            and "Traceback" not in self.output


def cvre(*args: str) -> Ran:
    from cvre.cli.main import app

    result = runner.invoke(app, list(args))
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += f"\nTraceback: {type(result.exception).__name__}: {result.exception}"
    return Ran(list(args), result.exit_code, " ".join(output.split()))  # rich wraps long lines: compare words
