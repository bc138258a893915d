# Hearth: `make run` starts the site with its own PostgreSQL and Meilisearch (data in ./data),
# `make test` runs the whole test suite (what CI runs). See README.md.

# The standard Go install location, for machines where it is not on PATH yet.
export PATH := $(PATH):/usr/local/go/bin

BIN := bin/hearth
# Extra arguments for go test, e.g. make test ARGS='-run TestLogin ./internal/auth/...'
ARGS ?=

.PHONY: build run test tools clean clean-data

build:
	go build -o $(BIN) ./cmd/hearth

# setup.sh installs what is missing (PostgreSQL, Meilisearch). exec: the shell is replaced by
# hearth, so a SIGTERM/Ctrl-C to make's process group reaches hearth, which drains requests
# and stops its private servers before exiting.
run: tools build
	exec ./$(BIN) serve

test:
	bash scripts/test.sh $(ARGS)

tools:
	bash scripts/setup.sh

clean:
	rm -rf bin .test-data

# Deletes the embedded default's database and search index (./data).
clean-data:
	rm -rf data
