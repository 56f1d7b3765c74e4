from typer.testing import CliRunner

from cvre.cli.main import app

runner = CliRunner()


def test_simulate_then_features(tmp_path):
    world = tmp_path / "w"
    result = runner.invoke(app, ["simulate", "--deals", "400", "--seed", "5", "--out", str(world), "--no-progress",
                                 "--policy", "stall_review"])
    assert result.exit_code == 0, result.output
    assert "stall_review" in result.output and (world / "export" / "opportunities.parquet").exists()
    result = runner.invoke(app, ["features", "--data", str(world)])
    assert result.exit_code == 0, result.output
    assert "deals_train" in result.output and (world / "features" / "deals_train.parquet").exists()


def test_bad_config_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("deals: 100\nbehaviour:\n  no_activity_share: 2\n")
    result = runner.invoke(app, ["simulate", "--config", str(path), "--out", str(tmp_path / "w")])
    assert result.exit_code == 2
    assert "behaviour.no_activity_share" in result.output and str(path) in result.output.replace("\n", "")


def test_unknown_policy_is_refused(tmp_path):
    result = runner.invoke(app, ["simulate", "--deals", "100", "--policy", "magic", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown" in result.output
