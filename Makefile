# Two commands on a fresh machine: `make run` (the default DAG) and `make test`.
# Both create the virtual environment .venv on first use.
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REPORT ?= results/report.html

.PHONY: run report figures screenshot test browser dry-run clean screen

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
# nothing is retrained (missing results stop it with an error instead). A figure whose
# inputs this checkout lacks (the overlays of datasets whose images may not be copied into
# the repository) is kept as it is, and the files it needs are named.
FIGURE_RULES := benchmark_report|literature_report|evidence_map|segmentation_report|segmentation_overlays|gan_samples|gan_augmentation|trust_report
figures: $(STAMP)
	@rules="$$($(BIN)/snakemake --list-rules $(ARGS) 2>/dev/null | grep -xE '$(FIGURE_RULES)' | tr '\n' ' ')"; \
	while ! planned="$$($(BIN)/snakemake -n $(ARGS) --forcerun $$rules --allowed-rules $$rules all 2>&1)"; do \
		rule="$$(printf '%s\n' "$$planned" | sed -n 's/^MissingInputException in rule \([a-z_]*\) .*/\1/p' | head -n 1)"; \
		case " $$rules " in *" $$rule "*) ;; *) rule="" ;; esac; \
		[ -n "$$rule" ] || { printf '%s\n' "$$planned" | tail -n 30; exit 1; }; \
		echo "make figures: $$rule not remade, its outputs kept as they are; it needs:"; \
		printf '%s\n' "$$planned" | sed -n '/affected files:/,$$p' | sed -n '2,$$p' | grep -E '^ +[^ ]'; \
		rules="$$(echo " $$rules " | sed "s/ $$rule / /")"; \
	done; \
	$(BIN)/snakemake --cores $(CORES) $(ARGS) --forcerun $$rules --allowed-rules $$rules all
	mkdir -p $(dir $(REPORT))
	$(BIN)/snakemake --cores $(CORES) $(ARGS) --report $(REPORT)

# Headless Chromium shows the HTML report in a screenshot (after `make run`).
CHROMIUM_FLAGS := --headless --no-sandbox --disable-gpu --disable-background-networking
screenshot: browser
	chromium $(CHROMIUM_FLAGS) --window-size=1400,900 --screenshot=$(CURDIR)/results/report.png file://$(CURDIR)/results/report.html

# Both cores: pytest-xdist sends each test file to one worker, so a file's module fixtures
# (a DAG run shared by its tests) are made once.
test: $(STAMP) browser
	$(BIN)/python -m pytest -n $(CORES) --dist loadfile

# A test opens the HTML report in Debian's chromium; it is installed here where apt-get may run.
browser:
	@command -v chromium >/dev/null \
	|| { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	|| echo "chromium is not installed: the browser test of the report will be skipped"

# The screening room on the records the rules leave to the reviewers (docs/screening_room.md):
# made by the DAG up to the screen rule, served on 127.0.0.1 until stopped with Ctrl-C.
REVIEW ?= results/screening/review.sqlite
PORT ?= 8765
screen: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) $(ARGS) results/literature/to_screen.csv
	$(BIN)/python -m workflow.screening_room serve $(REVIEW) --records results/literature/to_screen.csv --config config.yaml --port $(PORT) $(if $(REVIEWER),--reviewer $(REVIEWER))

dry-run: $(STAMP)
	$(BIN)/snakemake -n --cores $(CORES) --configfile config/full.yaml

clean:
	rm -rf results .snakemake
