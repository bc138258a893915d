package embedded

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoPostgres explains how to get PostgreSQL when its server binaries are missing.
const pgMissing = "PostgreSQL server binaries (initdb, postgres) not found: install them with " +
	"`sudo apt-get install -y postgresql` (Debian/Ubuntu; `make run` does this for you), " +
	"or set DATABASE_URL to an existing server"

// PostgresOptions tune the private cluster.
type PostgresOptions struct {
	// Fast turns off fsync and synchronous commit: for throw-away test clusters only.
	Fast bool
	// MaxConnections defaults to 100.
	MaxConnections int
}

// Postgres is a private PostgreSQL cluster under a data folder.
type Postgres struct {
	URL   string
	dir   string
	log   *slog.Logger
	child *child
}

// pgBinDir finds the newest Debian server binaries, then falls back to PATH.
func pgBinDir() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	sort.Slice(matches, func(i, j int) bool { return pgMajor(matches[i]) > pgMajor(matches[j]) })
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	return "", fmt.Errorf("%s", pgMissing)
}

func pgMajor(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// StartPostgres initialises (first time) and starts a cluster for dataDir, then makes
// sure the database "hearth" exists. PostgreSQL refuses to run as root, so as root the
// server runs as the `postgres` system user.
func StartPostgres(ctx context.Context, dataDir string, opt PostgresOptions, log *slog.Logger) (*Postgres, error) {
	bin, err := pgBinDir()
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
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	pgdir := filepath.Join(dataDir, "postgres")
	if cred != nil && !reachableBy(dataDir, cred) {
		// The postgres user cannot walk into the data folder (a 0700 home or temp
		// folder), so the cluster lives in a folder it can reach, linked from here.
		sum := sha256.Sum256([]byte(dataDir))
		pgdir = filepath.Join("/var/lib/hearth", "pg-"+hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(filepath.Dir(pgdir), 0o755); err != nil {
			return nil, err
		}
		link := filepath.Join(dataDir, "postgres")
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			_ = os.Symlink(pgdir, link)
		}
		log.Info("postgres user cannot reach the data folder; keeping the cluster elsewhere", "dir", pgdir)
	}
	pw, err := secretFile(filepath.Join(dataDir, "postgres.password"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(pgdir, "PG_VERSION")); err != nil {
		if err := initdb(bin, pgdir, pw, cred, log); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	maxConns := opt.MaxConnections
	if maxConns == 0 {
		maxConns = 100
	}
	args := []string{"-D", pgdir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "max_connections=" + strconv.Itoa(maxConns)}
	args = append(args, pgTuning(os.Getenv, memTotalMiB())...)
	if opt.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logPath := filepath.Join(dataDir, "postgres.log")
	cmd := exec.CommandContext(context.WithoutCancel(ctx), filepath.Join(bin, "postgres"), args...)
	cmd.Dir = "/"
	c, err := startChild("postgres", cmd, logPath, cred, syscall.SIGINT)
	if err != nil {
		return nil, err
	}
	p := &Postgres{dir: pgdir, log: log, child: c}
	admin := fmt.Sprintf("postgres://hearth:%s@127.0.0.1:%d/postgres?sslmode=disable", pw, port)
	check := func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	}
	if err := c.waitReady(ctx, 60*time.Second, logPath, check); err != nil {
		_ = p.Stop()
		return nil, err
	}
	if err := ensureDatabase(ctx, admin, "hearth"); err != nil {
		_ = p.Stop()
		return nil, err
	}
	p.URL = fmt.Sprintf("postgres://hearth:%s@127.0.0.1:%d/hearth?sslmode=disable", pw, port)
	log.Info("private PostgreSQL started", "dir", pgdir, "port", port)
	return p, nil
}

// Stop shuts the cluster down with PostgreSQL's fast mode (rolls back open transactions).
func (p *Postgres) Stop() error {
	err := p.child.stop(syscall.SIGINT, 30*time.Second)
	p.log.Info("private PostgreSQL stopped")
	return err
}

func initdb(bin, pgdir, pw string, cred *syscall.Credential, log *slog.Logger) error {
	if err := os.MkdirAll(pgdir, 0o700); err != nil {
		return err
	}
	pwFile := pgdir + ".pwfile"
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwFile)
	if cred != nil {
		for _, p := range []string{pgdir, pwFile} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return err
			}
		}
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", pgdir, "-U", "hearth",
		"--auth=scram-sha-256", "--pwfile="+pwFile, "--encoding=UTF8", "--no-locale")
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", pgdir, err, out)
	}
	log.Info("initialised private PostgreSQL cluster", "dir", pgdir)
	return nil
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// serverCredential is nil when not root; as root it is the postgres system user.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the `postgres` system user, which does not exist: install Debian's postgresql package (`apt-get install -y postgresql`)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// reachableBy reports whether cred may traverse every folder down to dir.
func reachableBy(dir string, cred *syscall.Credential) bool {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return false
		}
		st := fi.Sys().(*syscall.Stat_t)
		mode := fi.Mode().Perm()
		ok := mode&0o001 != 0 ||
			(st.Gid == cred.Gid && mode&0o010 != 0) ||
			(st.Uid == cred.Uid && mode&0o100 != 0)
		if !ok {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

// pgTuning gives the private cluster the memory the usual advice gives a dedicated
// database server, a quarter of the RAM for shared_buffers (kept between PostgreSQL's
// default 128 MB and 2 GB, since it shares the machine with Hearth and Meilisearch),
// instead of the 128 MB default: with 128 MB a 1M-post community reads most pages
// through the kernel's cache, which cost PostgreSQL a third of its CPU on the
// benchmark machine. HEARTH_PG_SHARED_BUFFERS (e.g. "512MB") overrides it.
func pgTuning(getenv func(string) string, memMiB int) []string {
	sb := getenv("HEARTH_PG_SHARED_BUFFERS")
	if sb == "" {
		mb := min(max(memMiB/4, 128), 2048)
		sb = strconv.Itoa(mb) + "MB"
	}
	out := []string{"-c", "shared_buffers=" + sb}
	if memMiB > 0 {
		out = append(out, "-c", "effective_cache_size="+strconv.Itoa(max(memMiB/2, 128))+"MB")
	}
	return out
}

// memTotalMiB reads the machine's RAM from /proc/meminfo (0 when it cannot).
func memTotalMiB() int {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb int
	for _, line := range strings.Split(string(b), "\n") {
		if n, _ := fmt.Sscanf(line, "MemTotal: %d kB", &kb); n == 1 {
			return kb / 1024
		}
	}
	return 0
}
