"""Run cvr_gym on the engines the field scales out with.

- :mod:`cvr_gym.integrations.ray`: ``cvr-gym compare --ray`` on Ray actors. The step-level
  vector env on Ray, :class:`~cvr_gym.envs.ray_vector.RayVectorEnv` (``cvr-gym eval --ray``, GRPO
  rollouts with ``GRPOConfig(vectorization="ray")``), is an env and lives in
  :mod:`cvr_gym.envs.ray_vector` (``pip install cvr-gym[ray]``).
- :mod:`cvr_gym.integrations.openenv`: an OpenEnv server for any cvr_gym env (``cvr-gym serve``)
  and :class:`RemoteCVREnv`, a Gymnasium env that plays over that server
  (``pip install cvr-gym[openenv]``).
- :mod:`cvr_gym.integrations.verl`: ``CVRAgentLoop``, a verl agent loop that plays our env, and
  the parquet export verl reads (``cvr-gym export-verl``). verl lives in its own environment.

Nothing here is imported by ``import cvr_gym``; each module imports its engine on use.
"""
