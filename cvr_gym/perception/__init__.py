"""Real perception: decoding video and audio windows with PyAV, and pluggable model backends."""
