"""Run cvr_gym on the engines the field scales out with.

- :mod:`cvr_gym.integrations.ray_vector`: Ray env actors and :class:`RayVectorEnv`, a Gymnasium
  vector env whose sub-envs live on a Ray cluster (``pip install cvr-gym[ray]``). Evaluation
  (``cvr-gym eval --ray``), ``cvr-gym compare --ray`` and GRPO rollouts
  (``GRPOConfig(vectorization="ray")``) use it.
- :mod:`cvr_gym.integrations.openenv`: an OpenEnv server for any cvr_gym env (``cvr-gym serve``)
  and :class:`RemoteCVREnv`, a Gymnasium env that plays over that server
  (``pip install cvr-gym[openenv]``).
- :mod:`cvr_gym.integrations.verl`: ``CVRAgentLoop``, a verl agent loop that plays our env, and
  the parquet export verl reads (``cvr-gym export-verl``). verl lives in its own environment.

Nothing here is imported by ``import cvr_gym``; each module imports its engine on use.
"""
