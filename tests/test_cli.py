"""The ``churnlab`` command: argument parsing, config merging and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from churnlab.cli import build_parser, main, report_config_from_args
from churnlab.exceptions import ConfigError


def _config(*argv: str):
    return report_config_from_args(build_parser().parse_args(["report", *argv]))


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "report" in out and "score" in out


def test_options_become_a_typed_config(tmp_path: Path) -> None:
    config = _config(
        *("--notebooks", "00,20", "--data-source", "cdnow", "--sample-customers", "300"),
        *("--output-dir", str(tmp_path), "--mask-customer-ids", "--cell-timeout", "30"),
        *("--run-timeout", "0", "-p", "time_unit=M", "-p", "horizon=6", "-p", "40.top_n=5"),
    )
    assert config.notebooks == ("00", "20")
    assert config.output_dir == tmp_path
    assert config.cell_timeout == 30.0 and config.run_timeout is None
    params = config.parameters
    assert (params.data_source, params.sample_customers, params.time_unit) == ("cdnow", 300, "M")
    assert params.mask_customer_ids is True
    assert params.extra == {"horizon": 6}
    assert config.notebook_parameters == {"40": {"top_n": 5}}


def test_command_line_overrides_config_file(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        'notebooks = ["00"]\nlock_timeout = 5\n[parameters]\nsample_customers = 100\n'
        'time_unit = "D"\n'
    )
    config = _config("--config", str(path), "--sample-customers", "7")
    assert config.notebooks == ("00",)
    assert config.lock_timeout == 5.0
    assert config.parameters.sample_customers == 7
    assert config.parameters.time_unit == "D"


def test_mistyped_parameter_is_named() -> None:
    with pytest.raises(ConfigError, match="'mask_customer_ids' must be bool, got int 3"):
        _config("-p", "mask_customer_ids=3")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["-p", "time_unit=Y"], 2, "time_unit='Y' is not a known time unit"),
        (["--config", "nope.toml"], 2, "config file 'nope.toml' does not exist"),
        (["-p", "oops"], 2, "must look like KEY=VALUE"),
        (["--notebooks", "77"], 2, "no notebook '77'"),
    ],
)
def test_errors_are_one_line_with_exit_code(
    argv: list[str], code: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--output-dir", str(tmp_path), *argv]) == code
    err = capsys.readouterr().err
    assert err.startswith("churnlab report: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_bad_data_path_is_a_clear_error_before_any_notebook_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.csv"
    out = tmp_path / "out"
    code = main(
        ["report", "--notebooks", "00", "--output-dir", str(out), "--data-source", str(missing)]
    )
    err = capsys.readouterr().err
    assert code in (2, 3)
    assert str(missing) in err
    assert not out.exists()  # nothing ran, nothing written


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "churnlab.cli", "report", "-p", "sample_customers=-1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert "'sample_customers' must be >= 0" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_separator_and_decimal_mark_reach_the_run(tmp_path: Path) -> None:
    config = _config("--data-source", "x.csv", "--output-dir", str(tmp_path),
                     "--sep", "\\t", "--decimal", ",")  # fmt: skip
    assert config.data["sep"] == "\t" and config.data["decimal"] == ","
    with pytest.raises(ConfigError, match="must be the one character"):
        _config("--data-source", "x.csv", "--output-dir", str(tmp_path), "--sep", ";;")
