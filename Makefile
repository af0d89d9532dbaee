# Two commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup bytecode fixtures serve prefect-server clean bench web doctor

run: $(STAMP) bytecode  ## process inbox/ into outputs/ once
	$(BIN)/coforms run

test: $(STAMP)  ## the whole test suite, after the formatter and the linter (rules in pyproject.toml)
	$(BIN)/ruff format --check --quiet pipeline schemas flows bench tests
	$(BIN)/ruff check --quiet pipeline schemas flows bench tests
	$(BIN)/python -m pytest

setup: $(STAMP)

# pip does not byte-compile an editable install; where PYTHONDONTWRITEBYTECODE is set (as on CI
# machines) every `coforms run` would otherwise compile this project's modules again (~0.2 s)
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q pipeline schemas flows > /dev/null

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV) (first time only, about a minute)..."
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(BIN)/pip install -e '.[dev]' >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	touch $(STAMP)

fixtures: $(STAMP)  ## rebuild tests/golden and the sample inbox (needs LibreOffice)
	$(BIN)/python -m tests.fixtures.build_golden

prefect-server: $(STAMP)  ## a local Prefect server for `make serve`
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

serve: $(STAMP)  ## run on the schedule (start `make prefect-server` first, in another terminal)
	PREFECT_API_URL=http://127.0.0.1:4200/api $(BIN)/coforms serve

web: $(STAMP) bytecode  ## the review desk on http://127.0.0.1:8080/ (add an account first: coforms users add NAME --role admin)
	$(BIN)/coforms web

doctor: $(STAMP)  ## check this deployment: settings, folders, mailbox, warehouse, tools, disk, schedule
	$(BIN)/coforms doctor

bench: $(STAMP) bytecode  ## 1,000 mixed forms, the floor, and reruns over a 10,000-form archive (needs LibreOffice)
	$(BIN)/python -m bench.run

clean:
	rm -rf outputs/archive outputs/*.duckdb* outputs/*.xlsx outputs/*.log outputs/summary.html outputs/.reports.json
