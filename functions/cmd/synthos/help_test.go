package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestHelpIsSuccess: `synthos CMD --help` (and -h) prints the command's
// usage and exits 0 for every command: help is what was asked for.
func TestHelpIsSuccess(t *testing.T) {
	for _, c := range commands() {
		for _, flag := range []string{"--help", "-h"} {
			t.Run(c.name+flag, func(t *testing.T) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), []string{c.name, flag}, &out, &errOut)
				if err != nil && exitCode(err) != 0 {
					t.Fatalf("synthos %s %s: exit status %d (%v)", c.name, flag, exitCode(err), err)
				}
				if c.name != "version" && !strings.Contains(strings.ToLower(errOut.String()+out.String()), "usage") {
					t.Errorf("synthos %s %s printed no usage: %q", c.name, flag, errOut.String()+out.String())
				}
			})
		}
	}
}
