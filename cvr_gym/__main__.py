import sys

from cvr_gym.cli import main

sys.exit(main())
