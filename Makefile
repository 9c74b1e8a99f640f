# Two commands on a fresh machine: `make run` (the default DAG) and `make test`.
# Both create the virtual environment .venv on first use.
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REPORT ?= results/report.html

.PHONY: run report figures screenshot test browser dry-run clean

$(STAMP): requirements.txt requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --cores $(CORES) --report $(REPORT)

report: $(STAMP)
	mkdir -p $(dir $(REPORT))
	$(BIN)/snakemake --cores $(CORES) $(ARGS) --report $(REPORT)

# Tables and figures made again from the existing results; no other job may run, so
# nothing is retrained (missing results stop it with an error instead).
FIGURE_RULES := benchmark_report|literature_report|evidence_map|segmentation_report|gan_samples|gan_augmentation|trust_report
figures: $(STAMP)
	rules="$$($(BIN)/snakemake --list-rules $(ARGS) 2>/dev/null | grep -xE '$(FIGURE_RULES)' | tr '\n' ' ')" && \
	$(BIN)/snakemake --cores $(CORES) $(ARGS) --forcerun $$rules --allowed-rules $$rules all
	mkdir -p $(dir $(REPORT))
	$(BIN)/snakemake --cores $(CORES) $(ARGS) --report $(REPORT)

# Headless Chromium shows the HTML report in a screenshot (after `make run`).
CHROMIUM_FLAGS := --headless --no-sandbox --disable-gpu --disable-background-networking
screenshot: browser
	chromium $(CHROMIUM_FLAGS) --window-size=1400,900 --screenshot=$(CURDIR)/results/report.png file://$(CURDIR)/results/report.html

test: $(STAMP) browser
	$(BIN)/python -m pytest

# A test opens the HTML report in Debian's chromium; it is installed here where apt-get may run.
browser:
	@command -v chromium >/dev/null \
	|| { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	|| echo "chromium is not installed: the browser test of the report will be skipped"

dry-run: $(STAMP)
	$(BIN)/snakemake -n --cores $(CORES) --configfile config/full.yaml

clean:
	rm -rf results .snakemake
