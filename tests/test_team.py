"""The team env (cvr_gym.team): PettingZoo API on both worlds, memory, topologies, vote, rewards,
reproducibility, and the reference heuristic team against the single heuristic."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pettingzoo.test import parallel_api_test

from cvr_gym import ToolCall
from cvr_gym.core.suites import load_suite
from cvr_gym.team import TeamRewardConfig, Topology, parallel_env, team_answer

A0, A1, A2 = "agent_0", "agent_1", "agent_2"


def team(mini_suite_path, n=3, **kwargs):
    return parallel_env("CVRSim-v0", num_agents=n, suite=str(mini_suite_path), split=None, **kwargs)


def task(mini_suite_path, task_id):
    return next(t for t in load_suite(str(mini_suite_path), split=None) if t.id == task_id)


# -- PettingZoo API --------------------------------------------------------------------------------
@pytest.mark.parametrize("topology", ["full", "ring", "dropout:0.5"])
def test_parallel_api_test_sim(mini_suite_path, topology):
    env = team(mini_suite_path, 3, topology=topology)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the API test passes an unknown reset option on purpose
        parallel_api_test(env, num_cycles=50)
    env.close()


def test_parallel_api_test_on_the_default_suite():
    env = parallel_env("CVRSim-v0", num_agents=4, split="test")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(env, num_cycles=50)


@pytest.mark.real
def test_parallel_api_test_real(tmp_path):
    from PIL import ImageDraw
    from test_real_env import write_video

    def draw(d: ImageDraw.ImageDraw, t, font):
        if t < 2:
            d.text((20, 100), "RED DOOR", fill=(0, 0, 0), font=font)

    write_video(tmp_path / "a.mp4", 4.0, draw)
    write_video(tmp_path / "b.mp4", 4.0, lambda d, t, font: d.text((20, 100), "BLUE CAR", fill=(0, 0, 0), font=font))
    videos = [{"index": i, "duration": 4.0, "fps": 10, "has_audio": False, "path": p,
               "script": [{"start": 0, "end": 2, "kind": "text", "content": c}]}
              for i, p, c in ((1, "a.mp4", "RED DOOR"), (2, "b.mp4", "BLUE CAR"))]
    row = {"id": "door", "family": "BU", "answer_type": "single", "answer": "A",
           "question": "What does the sign in video 1 say?", "options": ["RED DOOR", "BLUE CAR"], "videos": videos}
    (tmp_path / "tasks.jsonl").write_text(json.dumps(row) + "\n")
    env = parallel_env("CVRReal-v0", num_agents=2, suite=str(tmp_path / "tasks.jsonl"), frame_budget=3, max_steps=3)
    assert env.envs[0].perceiver is env.envs[1].perceiver  # one perceiver: models load once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(env, num_cycles=10)
    _obs, _ = env.reset(seed=0)
    out = env.step({A0: ToolCall.observe(1, 0, 2, 2), A1: ToolCall.observe(2, 0, 2, 2)})
    assert "RED DOOR" in out[0][A0] and "[agent_1] observe video 2" in out[0][A0] and "BLUE CAR" in out[0][A0]
    out = env.step({A0: ToolCall.answer("A"), A1: ToolCall.answer("A")})
    assert out[4][A1]["team"]["answer"]["score"] == 1.0
    env.close()


@pytest.mark.real
def test_team_compare_in_both_worlds(tmp_path):
    from PIL import ImageDraw
    from test_real_env import write_video

    from baselines.team import make_team
    from cvr_gym.evaluation.compare import CompareConfig
    from cvr_gym.team.compare import run_team_comparison
    from cvr_gym.team.play import TeamConfig

    def draw(d: ImageDraw.ImageDraw, t, font):
        if t < 2:
            d.text((20, 100), "RED DOOR", fill=(0, 0, 0), font=font)

    write_video(tmp_path / "a.mp4", 4.0, draw)
    row = {"id": "door", "family": "BU", "answer_type": "single", "answer": "A",
           "question": "What does the sign in the video say?", "options": ["RED DOOR", "BLUE CAR"],
           "videos": [{"index": 1, "duration": 4.0, "fps": 10, "has_audio": False, "path": "a.mp4",
                       "script": [{"start": 0, "end": 2, "kind": "text", "content": "RED DOOR"}]}]}
    (tmp_path / "tasks.jsonl").write_text(json.dumps(row) + "\n")
    for mode in ("paired", "replay"):
        config = CompareConfig(agent="heuristic:4,skim=4,reader=generic", suite=str(tmp_path / "tasks.jsonl"),
                               split=None, mode=mode)
        result = run_team_comparison(config, TeamConfig(2), make_team)
        summary = result["summary"]["ALL"]
        assert summary["n"] == 1 and summary["sim_score"] == 1.0 and summary["real_score"] == 1.0
        assert summary["answer_agreement"] == 1.0 and summary["evidence_recall"] == 1.0
        ep = result["episodes"][0]
        assert ep["sim"]["rounds"] == len(ep["sim"]["steps"]) and ep["real"]["frames"] == ep["sim"]["frames"]


def test_spaces_are_the_single_envs(mini_suite_path):
    env = team(mini_suite_path, 2)
    assert env.action_space(A0) is env.action_space(A0) is env.envs[0].action_space
    assert env.observation_space(A1) is env.envs[1].observation_space
    assert env.envs[0].suite is env.envs[1].suite and env.envs[0].perceiver is env.envs[1].perceiver


# -- observations and memory -------------------------------------------------------------------------
def test_prompt_is_the_single_prompt_plus_the_team_paragraph(mini_suite_path):
    env = team(mini_suite_path, 3)
    obs, infos = env.reset(seed=0, options={"task_id": "car-colour"})
    single, _ = env.envs[0].reset(options={"task_id": "car-colour"})
    assert obs[A1].startswith(single) and "Team: you are agent_1, one of 3 agents" in obs[A1]
    assert "majority vote" in obs[A1]
    assert infos[A1]["team"]["index"] == 1 and infos[A1]["task"]["question"].startswith("Which colour")


def test_memory_follows_the_topology(mini_suite_path):
    env = team(mini_suite_path, 4, topology="ring")
    env.reset(seed=0, options={"task_id": "car-colour"})
    acts = {a: ToolCall.observe(1, 28, 34, 4) for a in ("agent_0", "agent_1", "agent_3")}
    acts["agent_2"] = ToolCall.listen(1, 0, 60)
    obs, _, _, _, infos = env.step(acts)
    # ring: agent_0 hears from agent_1 and agent_3, not agent_2; agent_1 hears agent_0 and agent_2
    assert infos[A0]["team"]["received_from"] == ["agent_1", "agent_3"]
    assert "[agent_2]" not in obs[A0] and "[agent_0]" not in obs[A0]
    assert "[agent_2] listen video 1 [0.0-60.0 s]" in obs[A1] and '"look at that car"' in obs[A1]
    entry = infos[A1]["team"]["memory"][-1]
    assert entry["agent"] == "agent_2" and entry["call"]["name"] == "listen"
    assert {e.content for e in entry["evidence"]} == {"look at that car", "car horn"}
    # the own result comes first, exactly as the single env formats it
    assert obs[A0].startswith("observe video 1 [28.0-34.0 s], 4 frames")


def test_topology_links():
    rng = np.random.default_rng(0)
    full = Topology("full").links(3, rng)
    assert full.tolist() == [[False, True, True], [True, False, True], [True, True, False]]
    ring = Topology("ring").links(4, rng)
    assert np.flatnonzero(ring[0]).tolist() == [1, 3] and np.flatnonzero(ring[2]).tolist() == [1, 3]
    assert not Topology("dropout", 1.0).links(4, rng).any()
    assert Topology("dropout", 0.0).links(4, rng).sum() == 12
    assert Topology.from_any("dropout:0.3") == Topology("dropout", 0.3)
    with pytest.raises(ValueError):
        Topology("star")


# -- rewards -------------------------------------------------------------------------------------
def test_collaboration_rewards_new_evidence_once_and_penalises_calls_past_the_limit(mini_suite_path):
    env = team(mini_suite_path, 3, reward={"cost": 0.0})
    env.reset(seed=0, options={"task_id": "car-colour"})
    same = ToolCall.observe(1, 28, 34, 4)  # frames at 28.75, 30.25, 31.75, 33.25: the blue car
    _, rewards, _, _, infos = env.step({A0: same, A1: same, A2: ToolCall.listen(1, 0, 60)})
    assert infos[A0]["reward_components"]["collaboration"] == pytest.approx(0.05)
    assert infos[A1]["reward_components"]["collaboration"] == 0.0  # found nothing new: agent_0 had it
    assert infos[A2]["reward_components"]["collaboration"] == pytest.approx(0.05)
    assert rewards[A1] == pytest.approx(0.0)
    cfg = TeamRewardConfig()
    assert cfg.collaboration_term(0, 4, 3) == pytest.approx(-0.4)  # calls 6 and 7 are past 5
    assert cfg.collaboration_term(1, 6, 1) == pytest.approx(0.05 - 0.2)
    assert cfg.collaboration_term(2, 0, 5) == pytest.approx(0.1)


def test_episode_ends_when_all_answered_and_team_outcome_is_paid_to_all(mini_suite_path):
    env = team(mini_suite_path, 3, reward={"cost": 0.0})
    env.reset(seed=0, options={"task_id": "car-colour"})
    _, rewards, term, trunc, infos = env.step({A0: ToolCall.answer("B"), A1: ToolCall.answer("b"),
                                                A2: ToolCall.observe(2, 0, 40, 8)})
    assert not any(term.values()) and not any(trunc.values()) and env.agents == [A0, A1, A2]
    assert infos[A0]["reward_components"]["outcome"] == 1.0 and infos[A0]["team"]["waiting"]
    assert rewards[A0] == pytest.approx(1.0)
    # agent_0's action is ignored while it waits; agent_2 answers wrongly and is outvoted
    obs, rewards, term, trunc, infos = env.step({A0: ToolCall.observe(1, 0, 60, 8), A1: None,
                                                 A2: ToolCall.answer("C")})
    assert env.agents == [] and all(term.values()) and not any(trunc.values())
    assert infos[A0]["totals"]["steps"] == 1 and infos[A0]["totals"]["frames"] == 0
    assert infos[A2]["team"]["answer"] == {"answer": "B", "score": 1.0, "method": "vote",
                                           "votes": {"B": 2, "C": 1}, "by": "agent_0"}
    assert rewards[A0] == pytest.approx(1.0) and rewards[A2] == pytest.approx(1.0)  # team 1, own 0
    assert infos[A2]["episode_reward_components"]["outcome"] == 0.0
    assert infos[A2]["episode_reward_components"]["team_outcome"] == 1.0
    assert "Team answer: B (2 of 3 votes), from agent_0." in obs[A1]
    totals = infos[A1]["team"]["totals"]
    assert totals["rounds"] == 2 and totals["frames"] == 8 and totals["steps"] == 4


def test_pass_limits_and_truncation(mini_suite_path):
    env = team(mini_suite_path, 2, max_steps=2)
    env.reset(seed=0, options={"task_id": "car-colour"})
    _, _, _, _, infos = env.step({A0: None, A1: ToolCall.observe(1, 0, 60, 4)})
    assert infos[A0]["step"] == 0 and infos[A1]["step"] == 1
    _, _, term, trunc, infos = env.step({A1: ToolCall.observe(1, 0, 60, 4)})  # agent_0 left out: passes
    # the round limit (max_steps) ends the episode; nobody answered
    assert env.agents == [] and trunc == {A0: True, A1: True} and not any(term.values())
    assert infos[A0]["team"]["answer"]["method"] == "none"
    assert infos[A0]["team"]["termination_reasons"] == {A0: "max_rounds", A1: "max_steps"}


# -- team answer ------------------------------------------------------------------------------------
def test_vote_and_summariser_hand_values(mini_suite_path):
    car, cups = task(mini_suite_path, "car-colour"), task(mini_suite_path, "count-cups")
    order = [A0, A1, A2]
    r = team_answer(car, {A0: "(B)", A1: "b", A2: "A"}, order, A0)
    assert (r.method, r.score, r.votes, r.by) == ("vote", 1.0, {"B": 2, "A": 1}, A0)
    r = team_answer(car, {A0: "A", A1: "B"}, order, A1)  # tie: the summariser's answer
    assert (r.answer, r.score) == ("B", 1.0)
    r = team_answer(car, {A1: "A", A2: "B"}, order, A0)  # tie, summariser silent: first in order
    assert (r.answer, r.by) == ("A", A1)
    r = team_answer(car, {A0: "no idea", A1: "C"}, order, A0)  # unreadable answers do not vote
    assert r.votes == {"C": 1} and r.answer == "C"
    r = team_answer(cups, {A0: 4, A1: 5, A2: 5}, order, A0)  # counts: the summariser, not the vote
    assert (r.method, r.answer, r.score) == ("summariser", 4, 0.0)
    r = team_answer(cups, {A1: 5}, order, A0)
    assert (r.by, r.score) == (A1, 1.0)
    assert team_answer(cups, {}, order, A0).method == "none"


# -- reproducibility and robustness -------------------------------------------------------------------
def _random_episode(env, seed):
    obs, _ = env.reset(seed=seed)
    for a in env.possible_agents:
        env.action_space(a).seed(seed)
    trace = [obs]
    while env.agents:
        actions = {a: env.action_space(a).sample() for a in env.agents}
        obs, rewards, *_ = env.step(actions)
        trace.append((obs, rewards))
    return trace


def test_seeded_runs_reproduce(mini_suite_path):
    kwargs = {"topology": "dropout", "perception_noise": {"miss_prob": 0.3}}
    a, b = team(mini_suite_path, 3, **kwargs), team(mini_suite_path, 3, **kwargs)
    assert _random_episode(a, 7) == _random_episode(b, 7)
    assert _random_episode(a, 7) == _random_episode(a, 7)


def test_group_id_pins_the_start(mini_suite_path):
    env = team(mini_suite_path, 2, topology="dropout", perception_noise={"miss_prob": 0.5})
    outs = []
    for seed in (1, 2):
        obs, _ = env.reset(seed=seed, options={"group_id": "g"})
        outs.append((obs, env.step({A0: ToolCall.observe(1, 0, 60, 16), A1: ToolCall.observe(1, 0, 60, 16)})[0]))
    assert outs[0] == outs[1]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.one_of(st.none(), st.text(max_size=40), st.just('{"name": "answer"}'),
                                  st.just('{"name": "observe", "arguments": {"targets": [{"video": 9, "start": 0, "end": 5}]}}'),
                                  st.just('{"name": "answer", "arguments": {"answer": "B"}}')),
                        min_size=2, max_size=20))
def test_bad_actions_never_crash_a_round(mini_suite_path, actions):
    env = team(mini_suite_path, 2, max_steps=4)
    env.reset(seed=0)
    it = iter(actions)
    while env.agents:
        obs, _rewards, *_ = env.step({a: next(it, None) for a in env.agents})
        assert all(isinstance(o, str) for o in obs.values())


# -- reference team ---------------------------------------------------------------------------------
def test_heuristic_team_matches_the_single_heuristic_in_fewer_or_equal_rounds():
    from baselines.team import make_team
    from cvr_gym.evaluation.runner import EvalConfig, plan, run_episodes
    from cvr_gym.team.play import TeamConfig, run_team_episodes

    config = EvalConfig(agent="heuristic", split="test", episodes=24)
    episodes = plan(config)
    single = [r.record for r in run_episodes(config, episodes)]
    solo = [r.record for r in run_team_episodes(config, TeamConfig(1), episodes, make_team)]
    four = [r.record for r in run_team_episodes(config, TeamConfig(4), episodes, make_team)]
    for s, one, t in zip(single, solo, four):
        assert one["score"] == s["score"] and one["costs"]["frames"] == s["costs"]["frames"]  # one seat = the agent
        assert t["costs"]["frames"] == s["costs"]["frames"]  # the team's frame cap is the agent's
        assert t["costs"]["rounds"] <= s["costs"]["steps"] and t["costs"]["latency_s"] < s["costs"]["latency_s"]
        assert len({str(a) for a in t["team"]["answers"].values()}) == 1  # the seats agree
    mean = lambda records: sum(r["score"] for r in records) / len(records)
    assert abs(mean(four) - mean(single)) <= 0.01
    # with a lossy memory the seats still move on with the plan: every seat answers in time
    for topology in ("ring", "dropout:0.5"):
        for r in run_team_episodes(config, TeamConfig(4, topology), episodes[:8], make_team):
            assert set(r.record["team"]["termination_reasons"].values()) == {"answer"}
            assert r.record["costs"]["rounds"] <= 8


@pytest.mark.parametrize("spec", ["single-pass:16", "oracle"])
def test_planned_team_gives_the_single_answers_after_one_round_of_looking(spec):
    from baselines.team import TeamPlannedAgent, make_team
    from cvr_gym.evaluation.runner import EvalConfig, plan, run_episodes
    from cvr_gym.team.play import TeamConfig, run_team_episodes

    config = EvalConfig(agent=spec, split="test", episodes=12)
    episodes = plan(config)
    single = [r.record for r in run_episodes(config, episodes)]
    four = [r.record for r in run_team_episodes(config, TeamConfig(4), episodes, make_team)]
    assert all(isinstance(a, TeamPlannedAgent) for a in make_team(spec, 4))
    assert [type(a).__name__ for a in make_team("random", 2)] == ["RandomAgent"] * 2  # plain copies
    for s, t in zip(single, four):
        assert t["score"] == s["score"] and t["costs"]["frames"] == s["costs"]["frames"]
        assert t["costs"]["rounds"] == 2 < s["costs"]["steps"]  # look together, then answer
        assert t["costs"]["latency_s"] < s["costs"]["latency_s"]
        assert set(t["team"]["termination_reasons"].values()) == {"answer"}


def test_cli_eval_team_and_report(mini_suite_path, tmp_path, capsys):
    from cvr_gym.cli import main
    from cvr_gym.evaluation.results import read_results

    out = tmp_path / "team.jsonl"
    assert main(["eval", "--suite", str(mini_suite_path), "--split", "all", "--agent", "single-pass:8,reader=generic",
                 "--team", "2", "--topology", "ring", "--episodes", "4", "--out", str(out), "--no-progress",
                 "--num-envs", "2"]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "team episodes run one at a time" in captured.err
    assert "single-pass:8,reader=generic x2, ring" in text and "steps = rounds" in text
    records = read_results(out, strict=True)
    assert len(records) == 4 and all(r["team"]["num_agents"] == 2 for r in records)
    assert all(r["costs"]["rounds"] == r["costs"]["steps"] for r in records)
    assert main(["report", str(out)]) == 0
    text = capsys.readouterr().out
    mean_rounds = sum(r["costs"]["rounds"] for r in records) / len(records)
    assert "steps" in text and "lat. s" in text and f"{mean_rounds:.2f}" in text  # the per-run cost table
    assert main(["eval", "--suite", str(mini_suite_path), "--agent", "heuristic", "--team", "2",
                 "--topology", "star", "--no-progress"]) == 2


# -- team training ---------------------------------------------------------------------------------
def test_team_grpo_trains_resumes_and_its_checkpoint_plays_alone_and_in_teams(mini_suite_path, tmp_path):
    from baselines.team import make_team
    from cvr_gym.evaluation.runner import EvalConfig, plan, run_episodes
    from cvr_gym.team.play import TeamConfig, run_team_episodes
    from cvr_gym.train.team import TeamGRPOConfig, TeamGRPOTrainer

    config = TeamGRPOConfig(suite=str(mini_suite_path), split=None, eval_split=None, num_agents=2, group_size=2,
                            tasks_per_update=2, updates=2, log_dir=str(tmp_path / "run"), checkpoint_every=0,
                            seed=3, num_envs=1, catalogue={"scales": (1,), "frame_counts": (8, 32), "num_choices": 0},
                            encoder={"text_dim": 32})
    trainer = TeamGRPOTrainer(config)
    assert trainer.team_env(None).team_reward.cost_sharing == "team"
    records = trainer.train()
    update = records[-1]
    assert update["rollout/episodes"] == 8 and update["rollout/team_episodes"] == 4  # 2 tasks x 2 teams x 2 seats
    assert update["rollout/team_steps"] >= 1 and np.isfinite(update["loss"])
    ev = trainer.evaluate(split=None, episodes=3)
    assert ev["episodes"] == 3 and 0.0 <= ev["score"] <= 1.0 and ev["steps"] >= 1
    assert trainer.evaluate(split=None, episodes=3) == ev  # greedy team evaluation is deterministic
    trainer.close()

    ckpt = tmp_path / "run" / "checkpoints" / "last.pt"
    resumed = TeamGRPOTrainer.from_checkpoint(ckpt, log_dir=str(tmp_path / "resumed"))
    assert resumed.update_count == 2 and isinstance(resumed.config, TeamGRPOConfig) and resumed.config.num_agents == 2
    resumed.close()

    eval_config = EvalConfig(agent=f"checkpoint:{ckpt}", suite=str(mini_suite_path), split=None, episodes=3)
    episodes = plan(eval_config)
    alone = [r.record for r in run_episodes(eval_config, episodes)]
    team4 = [r.record for r in run_team_episodes(eval_config, TeamConfig(2), episodes, make_team)]
    assert all(r["termination_reason"] in ("answer", "max_steps", "frame_budget") for r in alone)
    assert all(r["team"]["num_agents"] == 2 and r["agent_name"].startswith("checkpoint:") for r in team4)


def test_train_cli_team_trains_resumes_as_a_team_and_rejects_bad_topologies(mini_suite_path, tmp_path, capsys):
    import torch

    from cvr_gym.cli import main

    out = tmp_path / "team-cli"
    common = ["--suite", str(mini_suite_path), "--split", "all", "--eval-split", "none", "--select-split", "none",
              "--group-size", "2", "--tasks-per-update", "2", "--hidden", "16", "--frame-counts", "8",
              "--out", str(out), "--no-progress"]
    assert main(["train", "--team", "3", "--topology", "dropout:0.3", "--updates", "2", *common]) == 0
    text = capsys.readouterr().out
    assert "team episodes of 3 seats (dropout:0.3)" in text and "--team 3" in text
    state = torch.load(out / "checkpoints" / "last.pt", map_location="cpu", weights_only=False)
    assert (state["config"]["num_agents"], state["config"]["topology"]) == (3, "dropout:0.3")
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["rollout/episodes"] for r in log if r["kind"] == "update"] == [12, 12]  # 2 tasks x 2 teams x 3 seats
    # resuming a team checkpoint continues as a team, without --team
    assert main(["train", "--updates", "3", "--resume", str(out / "checkpoints" / "last.pt"), *common]) == 0
    assert json.loads((out / "summary.json").read_text())["updates"] == 3
    assert torch.load(out / "checkpoints" / "last.pt", map_location="cpu", weights_only=False)["config"]["num_agents"] == 3
    assert main(["train", "--team", "2", "--topology", "star", "--updates", "1", *common]) == 2
    assert main(["train", "--team", "0", "--updates", "1", *common]) == 2
