"""Many LMS sites on Dagster: definitions.py, and the Meltano plugins of meltano-sites.yml."""
