"""CLI flags derived from config dataclasses (cvr_gym.cli.flags) and the train CLI built on them."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field

import pytest

from cvr_gym.cli.flags import add_config_arguments, config_from_args, field_help


@dataclass
class ToyConfig:
    """A toy.

    Arguments:
        rate: step size of the toy,
            continued on a second line.
        steps, epochs: counts.
        name: a name; ``None`` for none.
        sizes: layer sizes.
        extra: more options.
        flag: a switch.
    """

    rate: float = 0.1
    steps: int = 3
    epochs: int = 1
    name: str | None = "a"
    sizes: list[int] = field(default_factory=lambda: [4, 4])
    extra: dict = field(default_factory=dict)
    flag: bool = False


def _parse(argv, base=None, **overrides):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, ToyConfig)
    return config_from_args(parser.parse_args(argv), ToyConfig, base=base, **overrides)


def test_help_comes_from_the_docstring_entries():
    texts = field_help(ToyConfig)
    assert texts["rate"] == "step size of the toy, continued on a second line."
    assert texts["steps"] == texts["epochs"] == "counts."
    assert texts["name"] == "a name; None for none."


def test_every_field_is_a_flag_of_its_type():
    assert _parse([]) == ToyConfig()
    config = _parse(["--rate", "0.5", "--steps", "7", "--name", "none", "--sizes", "8,16", "--flag",
                     "--extra", '{"k": [1]}'])
    assert config == ToyConfig(rate=0.5, steps=7, name=None, sizes=[8, 16], flag=True, extra={"k": [1]})
    assert _parse(["--no-flag"], base={"flag": True}).flag is False


def test_given_flags_override_the_base_and_dicts_merge():
    base = {"rate": 0.3, "steps": 9, "extra": {"reward": {"cost": 0.5}, "keep": 1}}
    config = _parse(["--steps", "2", "--extra", '{"keep": 2}'], base=base)
    assert (config.rate, config.steps) == (0.3, 2)
    assert config.extra == {"reward": {"cost": 0.5}, "keep": 2}
    assert _parse([], base=base, rate=0.9).rate == 0.9


@pytest.mark.parametrize("argv", [["--steps", "x"], ["--extra", "[1]"], ["--sizes", "a,b"]])
def test_bad_values_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as err:
        _parse(argv)
    assert err.value.code == 2 and "error" in capsys.readouterr().err


def test_train_cli_has_a_flag_per_grpo_config_field_and_recipes_are_overridden():
    from cvr_gym.cli import build_parser
    from cvr_gym.cli.train import _NOT_FLAGS, mlp_config
    from cvr_gym.train.config import GRPOConfig
    from cvr_gym.train.recipes import get_recipe

    parser = build_parser()
    train = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    flags = {s for a in train._actions for s in a.option_strings}
    for f in dataclasses.fields(GRPOConfig):
        assert f.name in _NOT_FLAGS or "--" + f.name.replace("_", "-") in flags

    args = parser.parse_args(["train", "--out", "o"])
    config, policy = mlp_config(args)
    assert config == get_recipe("whole-video").build("o") and policy == {"hidden_sizes": [256, 256]}

    args = parser.parse_args(["train", "--recipe", "active-search", "--learning-rate", "0.01", "--out", "o",
                              "--cost-weight", "0.2", "--eval-split", "none", "--families", "CC,AUD",
                              "--hidden", "32", "--ray", "local"])
    config, policy = mlp_config(args)
    recipe = get_recipe("active-search").build("o")
    assert (config.wrappers, config.updates) == (recipe.wrappers, recipe.updates)
    assert (config.learning_rate, config.eval_split, config.families) == (0.01, None, ["CC", "AUD"])
    assert config.env_kwargs["reward"]["cost"] == 0.2 and policy["hidden_sizes"] == [32]
    assert (config.vectorization, config.ray_address) == ("ray", "local")


def test_learning_curve_references_are_what_cvr_gym_eval_reports(mini_suite_path, capsys):
    import json

    from cvr_gym.cli import main
    from cvr_gym.train.config import GRPOConfig
    from cvr_gym.train.summary import reference_scores

    config = GRPOConfig(suite=str(mini_suite_path), split="all", eval_split=None, seed=3)
    refs = reference_scores(config, agents=(("single-pass", "single-pass:8"), ("missing", "no_such_module:make")))
    assert list(refs) == ["single-pass"] and "no missing" in capsys.readouterr().err
    assert main(["eval", "--agent", "single-pass:8", "--suite", str(mini_suite_path), "--split", "all",
                 "--seed", "3", "--json", "--no-progress"]) == 0
    row = json.loads(capsys.readouterr().out)["families"]["ALL"]
    assert refs["single-pass"] == pytest.approx({"score": row["score"], "frames": row["frames"]})


def test_train_cli_reports_an_env_it_cannot_build_in_one_line(mini_suite_path, tmp_path, capsys):
    from cvr_gym.cli import main

    code = main(["train", "--suite", str(mini_suite_path), "--split", "all", "--env-kwargs", '{"bogus": 1}',
                 "--updates", "1", "--out", str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot start training") and "bogus" in err and "Traceback" not in err
