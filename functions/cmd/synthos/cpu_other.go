//go:build !unix

package main

// cpuSeconds is unknown off Unix.
func cpuSeconds() float64 { return -1 }
