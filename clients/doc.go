// Package clients holds the API's client libraries for other languages —
// typescript/ (npm) and python/ (standard library) — and the Go test that
// runs their suites against a local platform. It has no Go API.
package clients
