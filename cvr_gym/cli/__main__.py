"""``python -m cvr_gym.cli``: the ``cvr-gym`` command."""

import sys

from cvr_gym.cli import main

sys.exit(main())
