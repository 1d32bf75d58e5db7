# SPDX-License-Identifier: BSD-3-Clause
import sys

from rpbench.cli import main

sys.exit(main())
