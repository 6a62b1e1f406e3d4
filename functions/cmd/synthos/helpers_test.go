package main

import (
	"flag"
	"fmt"
	"io"
)

func newTestFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func fmtSscan(s string, v *float64) (int, error) { return fmt.Sscan(s, v) }
