package state_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"go.etcd.io/bbolt"

	"synthos.dev/synthos/shared/state"
)

// Environment of the writer subprocess started by TestBoltKill.
const (
	envWriterPath  = "STATE_TEST_WRITER_PATH"
	envWriterStart = "STATE_TEST_WRITER_START"
)

// seqDoc is what the writer commits; Pad makes pages split and the file grow.
type seqDoc struct {
	Seq int64  `json:"seq"`
	Pad string `json:"pad"`
}

const killColl = "seq"

func seqID(n int64) string { return fmt.Sprintf("%012d", n) }

// TestHelperWriter is the writer subprocess of TestBoltKill, not a test of its own: it commits seq
// documents one transaction at a time and prints each seq only after its commit returned, until killed.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(envWriterPath)
	if path == "" {
		t.Skip("writer subprocess of TestBoltKill; runs only when started by it")
	}
	start, err := strconv.ParseInt(os.Getenv(envWriterStart), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", envWriterStart, err)
	}
	s, err := state.OpenBolt(path)
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	ctx := context.Background()
	pad := strings.Repeat("x", 300)
	for n := start; ; n++ {
		doc := seqDoc{Seq: n, Pad: pad}
		if n%2 == 0 {
			err = s.Set(ctx, killColl, seqID(n), doc)
		} else {
			err = s.RunTransaction(ctx, func(_ context.Context, tx state.Tx) error {
				return tx.Create(killColl, seqID(n), doc)
			})
		}
		if err != nil {
			t.Fatalf("write %d: %v", n, err)
		}
		if _, err := fmt.Fprintln(os.Stdout, n); err != nil {
			t.Fatalf("ack %d: %v", n, err)
		}
	}
}

// TestBoltKill checks durability: every write acknowledged before a SIGKILL is in the file afterwards,
// and the file passes bbolt's consistency check. Rounds append to the same file.
func TestBoltKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test starts writer subprocesses")
	}
	const (
		rounds    = 3
		killAfter = 200
	)
	path := filepath.Join(t.TempDir(), "state.db")
	var acked []int64
	for round := range rounds {
		start := int64(round+1) * 1_000_000
		acked = append(acked, killWriter(t, path, start, killAfter)...)
		checkFile(t, path)
		checkAcked(t, path, acked)
	}
}

// killWriter runs one writer from seq start, SIGKILLs it after killAfter acknowledgements and returns
// every seq it acknowledged.
func killWriter(t *testing.T, path string, start int64, killAfter int) []int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), envWriterPath+"="+path, envWriterStart+"="+strconv.FormatInt(start, 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start writer: %v", err)
	}
	var acked []int64
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		n, err := strconv.ParseInt(sc.Text(), 10, 64)
		if err != nil {
			continue // testing framework output
		}
		acked = append(acked, n)
		if len(acked) == killAfter && !killed {
			// The writer keeps going until the signal lands, so the kill hits it mid-stream.
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill writer: %v", err)
			}
			killed = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read writer output: %v", err)
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("writer stopped after %d acknowledgements (want %d): %v", len(acked), killAfter, err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer ended with %v, want killed by SIGKILL", err)
	}
	return acked
}

// checkFile runs bbolt's consistency check over the whole file.
func checkFile(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("consistency check: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
}

// checkAcked verifies through the Store that every acknowledged seq is present and decodes.
func checkAcked(t *testing.T, path string, acked []int64) {
	t.Helper()
	s, err := state.OpenBolt(path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	for _, n := range acked {
		var d seqDoc
		if err := s.Get(t.Context(), killColl, seqID(n), &d); err != nil {
			t.Fatalf("acknowledged seq %d lost: %v", n, err)
		}
		if d.Seq != n || len(d.Pad) != 300 {
			t.Fatalf("seq %d decoded as %d with %d bytes of padding", n, d.Seq, len(d.Pad))
		}
	}
	docs, err := s.Query(t.Context(), killColl, state.Query{})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(docs) < len(acked) {
		t.Fatalf("%d documents in the file, fewer than %d acknowledged", len(docs), len(acked))
	}
	t.Logf("%d acknowledged, %d in the file", len(acked), len(docs))
}
