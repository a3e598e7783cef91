"""Report parameters and notebook planning: everything is validated before anything runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.report.notebooks import plan_run
from churnlab.report.params import (
    ReportConfig,
    ReportParameters,
    load_config_file,
    parse_override,
)
from churnlab.report.runner import validate_data


@pytest.fixture
def nb_dir(tmp_path: Path, make_notebook) -> Path:
    folder = tmp_path / "notebooks"
    make_notebook(folder, "00-quality", ["x = 1"])
    make_notebook(
        folder,
        "40-drivers",
        ["y = 2"],
        params='data_source = "telco"  # a = b comment\nsample_customers = 0\nhorizon = 12.0',
    )
    return folder


def test_defaults_are_valid() -> None:
    params = ReportParameters()
    assert params.data_source == "online_retail"
    assert params.as_dict()["time_unit"] == "W"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sample_customers": "300"}, "'sample_customers' must be int, got str"),
        ({"sample_customers": True}, "'sample_customers' must be int, got bool"),
        ({"sample_customers": -1}, "'sample_customers' must be >= 0"),
        ({"time_unit": "Y"}, "time_unit='Y' is not a known time unit. Use one of 'D', 'W', 'M'"),
        ({"observation_end": "2011-13-45"}, "'observation_end' '2011-13-45' is not a date"),
        ({"mask_customer_ids": "yes"}, "'mask_customer_ids' must be bool"),
        ({"data_source": ""}, "'data_source' is empty"),
        ({"extra": {"not valid": 1}}, "not valid parameter names"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ReportParameters(**kwargs)


def test_unknown_config_option_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown option\(s\) 'sample_customer'"):
        ReportConfig.from_mapping({"sample_customer": 3})


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"cell_timeout": "soon"}, "'cell_timeout' must be float, got str"),
        ({"run_timeout": -5}, "'run_timeout' must be >= 0"),
        ({"notebooks": [0, 1]}, None),
        ({"parameters": [1, 2]}, "'parameters' must be a table"),
        ({"notebook_parameters": {"40": 3}}, "notebook_parameters for '40' must be a table"),
    ],
)
def test_bad_config_values(values: dict, match: str | None) -> None:
    if match is None:  # YAML/TOML numbers are accepted as notebook numbers
        assert ReportConfig.from_mapping(values).notebooks == ("00", "01")
        return
    with pytest.raises(ConfigError, match=match):
        ReportConfig.from_mapping(values)


def test_zero_timeout_means_none() -> None:
    config = ReportConfig.from_mapping({"cell_timeout": 0, "run_timeout": 0})
    assert config.cell_timeout is None
    assert config.run_timeout is None


def test_toml_and_yaml_configs(tmp_path: Path) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text(
        'notebooks = ["00"]\ncell_timeout = 30\n[parameters]\nsample_customers = 300\n'
        '[notebook_parameters."40"]\ndata_source = "telco"\n'
    )
    yaml = tmp_path / "run.yaml"
    yaml.write_text("notebooks: ['00']\ncell_timeout: 30\nparameters:\n  sample_customers: 300\n")
    for path in (toml, yaml):
        config = ReportConfig.from_mapping(load_config_file(path))
        assert config.notebooks == ("00",)
        assert config.cell_timeout == 30.0
        assert config.parameters.sample_customers == 300


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("missing.toml", None, "does not exist"),
        ("run.ini", "a=1", "use .toml, .yaml or .yml"),
        ("bad.toml", "a = = 1", "does not parse"),
        ("list.yaml", "- 1\n- 2", "must hold a table"),
    ],
)
def test_bad_config_files(tmp_path: Path, name: str, text: str | None, match: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config_file(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sample_customers=300", ("sample_customers", 300)),
        ("mask_customer_ids=true", ("mask_customer_ids", True)),
        ("horizon=6.5", ("horizon", 6.5)),
        ("data_source=/tmp/x.csv", ("data_source", "/tmp/x.csv")),
        ("observation_end=", ("observation_end", "")),
        ("40.data_source=telco", ("40.data_source", "telco")),
    ],
)
def test_parse_override(text: str, expected: tuple) -> None:
    assert parse_override(text) == expected


def test_parse_override_needs_equals() -> None:
    with pytest.raises(ConfigError, match="must look like KEY=VALUE"):
        parse_override("sample_customers")


def test_plan_passes_only_declared_parameters(nb_dir: Path) -> None:
    config = ReportConfig(notebooks_dir=nb_dir, parameters=ReportParameters(sample_customers=300))
    plans = {p.number: p for p in plan_run(config)}
    assert plans["00"].parameters == {
        "data_source": "online_retail",
        "sample_customers": 300,
        "random_state": 42,
    }
    # one data source per run: notebook 40 reads the run's log, not its declared default
    assert plans["40"].parameters == {"data_source": "online_retail", "sample_customers": 300}
    assert plans["40"].data_source == "online_retail"
    assert plans["40"].declared["horizon"] == 12.0


def test_plan_per_notebook_and_extra(nb_dir: Path) -> None:
    config = ReportConfig.from_mapping(
        {
            "notebooks_dir": str(nb_dir),
            "parameters": {"horizon": 6},
            "notebook_parameters": {"40": {"horizon": 9}},
        }
    )
    plans = {p.number: p for p in plan_run(config)}
    assert plans["40"].parameters["horizon"] == 9.0  # the notebook's own value wins
    assert "horizon" not in plans["00"].parameters


def test_run_level_parameters_cannot_differ_per_notebook(nb_dir: Path) -> None:
    config = ReportConfig.from_mapping(
        {"notebooks_dir": str(nb_dir), "notebook_parameters": {"40": {"data_source": "x.csv"}}}
    )
    with pytest.raises(ConfigError, match=r"'data_source' can only be set for the whole run"):
        plan_run(config)


@pytest.mark.parametrize(
    ("mapping", "match"),
    [
        ({"parameters": {"horizn": 6}}, r"'horizn' are not declared by any selected notebook"),
        ({"parameters": {"horizon": "six"}}, "'horizon' must be float like its default 12.0"),
        ({"notebook_parameters": {"00": {"horizon": 6}}}, "'00-quality' does not declare"),
        ({"notebook_parameters": {"99": {"a": 1}}}, "'99' is not a selected notebook"),
        ({"notebooks": ["00", "77"]}, r"no notebook '77'. Available: 00-quality, 40-drivers"),
    ],
)
def test_plan_errors_name_the_parameter(nb_dir: Path, mapping: dict, match: str) -> None:
    config = ReportConfig.from_mapping({"notebooks_dir": str(nb_dir), **mapping})
    with pytest.raises(ConfigError, match=match):
        plan_run(config)


def test_notebook_must_declare_required_parameters(tmp_path: Path, make_notebook) -> None:
    make_notebook(tmp_path, "10-bad", ["x = 1"], params="data_source = 'cdnow'")
    with pytest.raises(ConfigError, match="'10-bad' does not declare 'sample_customers'"):
        plan_run(ReportConfig(notebooks_dir=tmp_path))


def test_notebook_needs_parameters_cell(tmp_path: Path, make_notebook) -> None:
    path = make_notebook(tmp_path, "10-bad", ["x = 1"])
    text = path.read_text().replace('"parameters"', '"other"')
    path.write_text(text)
    with pytest.raises(ConfigError, match="has no cell tagged 'parameters'"):
        plan_run(ReportConfig(notebooks_dir=tmp_path))


def test_missing_notebooks_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        plan_run(ReportConfig(notebooks_dir=tmp_path / "nope"))
    with pytest.raises(ConfigError, match=r"holds no NN-topic\.ipynb notebooks"):
        plan_run(ReportConfig(notebooks_dir=tmp_path))


def test_validate_data_names_source_and_notebook(nb_dir: Path, fake_data: dict) -> None:
    config = ReportConfig(
        notebooks_dir=nb_dir,
        notebooks=("00",),
        parameters=ReportParameters(data_source="missing.csv"),
    )
    with pytest.raises(DataValidationError, match=r"missing\.csv' \(used by notebook '00"):
        validate_data(plan_run(config))


def test_validate_data_facts(nb_dir: Path, fake_data: dict) -> None:
    facts = validate_data(plan_run(ReportConfig(notebooks_dir=nb_dir)))
    assert set(facts) == {"online_retail"}  # one data source per run
    assert facts["online_retail"]["customers"] == 2
    assert facts["online_retail"]["fingerprint"].startswith("sha256:")
    telco = ReportConfig(notebooks_dir=nb_dir, notebooks=("40",))
    telco = validate_data(plan_run(replace(telco, parameters=ReportParameters("telco"))))
    assert set(telco) == {"telco"}
    assert ("telco", True, 0) in fake_data["sources"]


@pytest.fixture
def ranged_dir(tmp_path: Path, make_notebook) -> Path:
    params = (
        'data_source = "online_retail"\nsample_customers = 0\nrandom_state = 42\n'
        'observation_end = ""\nn_themes = 4\nclv_horizon_months = 12'
    )
    make_notebook(tmp_path / "ranged", "40-reasons", ["x = 1"], params=params)
    return tmp_path / "ranged"


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"parameters": {"n_themes": 4}}, None),
        ({"parameters": {"random_state": -1}}, "'random_state' must be between 0 and"),
        ({"parameters": {"clv_horizon_months": -12}}, "'clv_horizon_months' must be between 1"),
        ({"notebook_parameters": {"40": {"n_themes": 0}}}, "'n_themes' must be between 1 and 20"),
        ({"kernel_name": "no-such-kernel"}, "kernel_name 'no-such-kernel' is not an installed"),
    ],
)
def test_parameter_ranges_are_checked_before_anything_runs(
    ranged_dir: Path, overrides: dict, match: str | None
) -> None:
    config = ReportConfig.from_mapping({"notebooks_dir": str(ranged_dir), **overrides})
    if match is None:
        assert plan_run(config)[0].parameters["n_themes"] == 4
        return
    with pytest.raises(ConfigError, match=match):
        plan_run(config)


def test_list_parameters_are_checked_item_by_item() -> None:
    from churnlab.report.params import check_range

    with pytest.raises(ConfigError, match="'retention_points' must be between 0 and 50"):
        check_range("retention_points", [1, 2, 99], where="report parameters")


@pytest.mark.parametrize("end", ["1900-01-01", "2100-01-01"])
def test_observation_end_outside_the_data_is_refused(
    ranged_dir: Path, fake_data: dict, end: str
) -> None:
    config = ReportConfig(
        notebooks_dir=ranged_dir, parameters=ReportParameters(observation_end=end)
    )
    with pytest.raises(ConfigError, match=r"observation_end .* is outside the data"):
        validate_data(plan_run(config))
