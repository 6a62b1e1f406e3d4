package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run the CLI as its own process: the test binary,
// started with SYNTHOS_CLI_ARGS (arguments separated by newlines), is the
// synthos command. SYNTHOS_CLI_CPUPROFILE names a file for its CPU profile
// (what TestBigFit's runs spend their time on).
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("SYNTHOS_CLI_ARGS"); ok {
		os.Args = append([]string{"synthos"}, strings.Split(args, "\n")...)
		if path := os.Getenv("SYNTHOS_CLI_CPUPROFILE"); path != "" {
			f, err := os.Create(path)
			if err == nil {
				err = pprof.StartCPUProfile(f)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "cpu profile:", err)
				os.Exit(1)
			}
			main()
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestGenerateChecksTheRequestFirst: the flags become a job request that
// jobspec checks, statically and against the input's columns, before
// anything is fitted or written.
func TestGenerateChecksTheRequestFirst(t *testing.T) {
	t.Parallel()
	needDataset(t, insurance)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missingCol := write("agee.json", `{"rules":[{"type":"range","column":"agee","min":18}]}`)
	badTh := write("th.json", `{"max_dcr_share":2}`)
	tests := []struct {
		name  string
		args  []string
		usage bool
		msg   string
	}{
		{"epsilon 0", []string{"--epsilon", "0"}, true,
			"--epsilon must be greater than 0 and at most 100 with model dp (the privacy budget, e.g. 1)"},
		{"epsilon 0 with model dp", []string{"--model", "dp", "--epsilon", "0"}, true,
			"--epsilon must be greater than 0 and at most 100 with model dp (the privacy budget, e.g. 1)"},
		{"delta 1", []string{"--epsilon", "1", "--delta", "1"}, true,
			"--delta must be greater than 0 and less than 1 (e.g. 1e-9), or left out for 1e-09"},
		{"epsilon without dp", []string{"--model", "tree", "--epsilon", "1"}, true,
			"--epsilon applies to model dp only: set model to dp, or leave epsilon out"},
		{"zero rows", []string{"-n", "0"}, true, "-n must be an integer from 1 to 1000000000"},
		{"bad thresholds", []string{"--thresholds", badTh}, true,
			"--thresholds " + badTh + ": max_dcr_share is 2; use a value from 0.5 to 1"},
		{"target typo", []string{"--target", "chargs"}, false,
			`--target "chargs" is not a column; did you mean "charges"?`},
		{"condition typo", []string{"--where", "smokr=yes"}, false,
			`--where smokr: "smokr" is not a column; did you mean "smoker"?`},
		{"numeric condition", []string{"--where", "age=old"}, false,
			`--where age: "old" is not a number, and "age" is a numeric column`},
		{"rule on a missing column", []string{"--rules", missingCol}, false,
			"--rules " + missingCol + `: rules[0].column: "agee" is not a column; did you mean "age"?`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".csv")
			args := append([]string{"generate", insurance, "-n", "50", "-o", out, "--quiet", "--report", out + ".html"}, tc.args...)
			_, stderr, err := runCLI(t, args...)
			if err == nil || err.Error() != tc.msg {
				t.Fatalf("error %v, want %q", err, tc.msg)
			}
			if wantCode := map[bool]int{true: 2, false: 1}[tc.usage]; exitCode(err) != wantCode {
				t.Errorf("exit status %d, want %d", exitCode(err), wantCode)
			}
			if strings.Contains(stderr, "fitted in") {
				t.Errorf("fitted before refusing the request:\n%s", stderr)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), filepath.Base(out)) || strings.HasPrefix(e.Name(), "."+filepath.Base(out)) {
					t.Errorf("a refused request left %s", e.Name())
				}
			}
		})
	}
}

// TestGenerateInterrupted runs the CLI as a process, interrupts it while it
// samples, and checks that it leaves neither its temporary output nor an
// output, and that it removed the leftover of an earlier killed run.
func TestGenerateInterrupted(t *testing.T) {
	t.Parallel()
	needDataset(t, insurance)
	for _, tc := range []struct {
		sig os.Signal
		n   int
	}{{os.Interrupt, 1}, {os.Interrupt, 2}, {syscall.SIGTERM, 1}} {
		t.Run(fmt.Sprintf("%v x%d", tc.sig, tc.n), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := filepath.Join(dir, "big.csv")
			// The leftover of a run killed with SIGKILL: its process is gone.
			dead := exec.Command(os.Args[0], "-test.run=^$")
			if err := dead.Run(); err != nil {
				t.Fatal(err)
			}
			stale := filepath.Join(dir, ".big.csv.tmp-"+strconv.Itoa(dead.ProcessState.Pid())+"-1")
			if err := os.WriteFile(stale, []byte("partial rows"), 0o600); err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "SYNTHOS_CLI_ARGS="+strings.Join([]string{"generate", insurance, "-n", "1000000000", "-o", out, "--quiet"}, "\n"))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			// Wait until rows reach the temporary output: it is sampling.
			temp := fmt.Sprintf(".big.csv.tmp-%d-", cmd.Process.Pid)
		wait:
			for {
				select {
				case err := <-exited:
					t.Fatalf("the command ended before it was interrupted: %v\n%s", err, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					if fi, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), temp) && fi.Size() > 0 {
						break wait
					}
				}
			}
			for range tc.n {
				if err := cmd.Process.Signal(tc.sig); err != nil {
					t.Fatal(err)
				}
			}
			err := <-exited
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
				t.Errorf("exit: %v, want a non-zero status\n%s", err, stderr.String())
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				t.Errorf("left %s after the interrupt", e.Name())
			}
			if !strings.Contains(stderr.String(), "removed "+stale+", left by an interrupted run") {
				t.Errorf("stderr does not report the stale file removed:\n%s", stderr.String())
			}
		})
	}
}
