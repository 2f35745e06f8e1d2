"""The world model shared by every env: actions, tasks, evidence, scoring and rewards."""
