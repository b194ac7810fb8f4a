# mattwin: the two set-up commands of the README are `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install services demo test lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first, pinned: the CPU wheel on disk (any other spec pulls a multi-GB CUDA build)
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[test]"
	$(PY) -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/mattwin discover examples/demo.toml --db mattwin.db --report mattwin-report

lint: install
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/mypy src/mattwin

services:
	scripts/install_services.sh

# two pytest-xdist workers, one test file per worker at a time (a file's module fixtures are built once),
# each single-threaded: two workers with torch's default threads oversubscribe the 2 cores (36 min, against
# 29 serial); one thread each is measured in the README
test: install lint services
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(VENV)/bin/pytest -q -ra --durations=30 -n 2 --dist loadfile

bench: install
	$(PY) benchmarks/discover_demo.py
	$(PY) benchmarks/bench_relax_throughput.py
	$(PY) benchmarks/bench_scaling.py
	$(PY) benchmarks/bench_memory.py
	$(PY) benchmarks/bench_s22.py
	$(PY) benchmarks/bench_li_diffusion.py
	$(PY) benchmarks/bench_eos_elements.py
	$(PY) benchmarks/bench_elastic.py
	$(PY) benchmarks/bench_formation_enthalpy.py
	$(PY) benchmarks/bench_element_polymorphs.py --engines chgnet sevenn:7net-0 sevenn:7net-l3i5
	$(PY) benchmarks/bench_serve.py
	$(PY) benchmarks/bench_quantum_rung.py

clean:
	rm -rf $(VENV) mattwin.db mattwin.db-wal mattwin.db-shm mattwin.runs mattwin-report
