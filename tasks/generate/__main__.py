"""`python -m tasks.generate`: rebuild the shipped task data."""

import sys

from tasks.generate.build import main

sys.exit(main())
