.PHONY: demo test

# One command, no credentials: sandbox API -> tap-lms -> Meltano -> output/*.jsonl, then a summary.
demo:
	bash scripts/demo.sh

test:
	.venv/bin/pytest
