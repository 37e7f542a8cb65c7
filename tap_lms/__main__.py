"""`python -m tap_lms` runs the same command as `tap-lms`."""

from tap_lms.launch import main

main()
